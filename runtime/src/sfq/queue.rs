//! The pulse queue of the SFQ simulator: events `(time in fs, cell, input)` come out in exactly ascending order,
//! as from a binary heap, but from a calendar of buckets (2^8 fs wide, 16,384 of them: 4.2 ns ahead), each sorted
//! only when the simulation reaches it; a heap holds just the events beyond the calendar. Pushes must not be
//! earlier than the last event popped (the simulation never schedules into its past). A bucket holds its events
//! as one `u64` each, `(time within the bucket, cell, input)` packed in that order, so sorting the integers sorts
//! the events; cells must be below [`soma_isa::sfq::MAX_CELLS`] (2^30) and inputs below 4.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An event: `(time in fs, cell, input)`, ordered by time, then cell, then input.
pub type Event = (u64, u32, u8);

const SHIFT: u32 = 8;
const BUCKETS: u64 = 16384;

/// An event of bucket `e.0 >> SHIFT` as the bucket holds it.
fn pack(e: Event) -> u64 {
    debug_assert!((e.1 as usize) < soma_isa::sfq::MAX_CELLS && e.2 < 4, "event {e:?} out of the packed range");
    (e.0 & ((1 << SHIFT) - 1)) << 32 | (e.1 as u64) << 2 | e.2 as u64
}

/// The event `packed` of bucket `b`.
fn unpack(b: u64, packed: u64) -> Event {
    (b << SHIFT | packed >> 32, (packed as u32) >> 2, (packed & 3) as u8)
}

/// The queue.
pub struct PulseQueue {
    /// The calendar: bucket `b` (times `b << SHIFT ..`) lives in slot `b % BUCKETS`.
    buckets: Vec<Vec<u64>>,
    /// Events in the calendar's slots.
    in_buckets: usize,
    /// The bucket `current` was taken from.
    now: u64,
    /// The events of bucket `now` and any pushed at or before it since, sorted descending (next event last).
    current: Vec<Event>,
    /// Events at or beyond bucket `now + BUCKETS`.
    far: BinaryHeap<Reverse<Event>>,
    /// Emptied buckets' storage, for the next bucket to fill: a slot holds storage only while it has events, so
    /// the calendar's memory follows the events pending, not the largest burst each slot ever saw.
    spare: Vec<Vec<u64>>,
}

impl Default for PulseQueue {
    fn default() -> PulseQueue {
        PulseQueue {
            buckets: vec![Vec::new(); BUCKETS as usize],
            in_buckets: 0,
            now: 0,
            current: Vec::new(),
            far: BinaryHeap::new(),
            spare: Vec::new(),
        }
    }
}

impl PulseQueue {
    /// Schedules an event.
    pub fn push(&mut self, e: Event) {
        let b = e.0 >> SHIFT;
        if b <= self.now {
            let at = self.current.partition_point(|x| *x > e);
            self.current.insert(at, e);
        } else if b < self.now + BUCKETS {
            self.bucket_push(b, e);
        } else {
            self.far.push(Reverse(e));
        }
    }

    /// The next event, if any.
    pub fn peek(&mut self) -> Option<Event> {
        self.refill();
        self.current.last().copied()
    }

    /// Removes and returns the next event.
    pub fn pop(&mut self) -> Option<Event> {
        self.refill();
        self.current.pop()
    }

    /// Moves to the next bucket with events until `current` has some (or nothing is left).
    fn refill(&mut self) {
        while self.current.is_empty() {
            if self.in_buckets == 0 {
                let Some(&Reverse((t, ..))) = self.far.peek() else { return };
                // Nothing in the calendar: jump to the far events' bucket.
                self.now = self.now.max((t >> SHIFT).saturating_sub(1));
            }
            self.now += 1;
            while let Some(&Reverse(e)) = self.far.peek()
                && (e.0 >> SHIFT) < self.now + BUCKETS
            {
                self.far.pop();
                self.bucket_push(e.0 >> SHIFT, e);
            }
            let slot = &mut self.buckets[(self.now % BUCKETS) as usize];
            if !slot.is_empty() {
                self.in_buckets -= slot.len();
                let mut events = std::mem::take(slot);
                events.sort_unstable();
                let now = self.now;
                self.current.extend(events.drain(..).rev().map(|p| unpack(now, p)));
                self.spare.push(events);
            }
        }
    }

    /// Puts `e` into the calendar's bucket `b`, giving the slot spare storage if it has none.
    fn bucket_push(&mut self, b: u64, e: Event) {
        let slot = &mut self.buckets[(b % BUCKETS) as usize];
        if slot.capacity() == 0
            && let Some(storage) = self.spare.pop()
        {
            *slot = storage;
        }
        slot.push(pack(e));
        self.in_buckets += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any interleaving of pushes (never before the last pop) and pops gives the heap's order exactly.
        #[test]
        fn pops_in_the_heaps_order(ops in proptest::collection::vec((0u8..4, 0u64..20_000_000, 0u32..50, 0u8..3), 1..600)) {
            let (mut wheel, mut heap) = (PulseQueue::default(), BinaryHeap::new());
            // The simulation's clock: the time of the last event popped; nothing is pushed before it.
            let mut now = 0u64;
            for (op, dt, cell, input) in ops {
                if op == 0 {
                    let want = heap.pop().map(|Reverse(e)| e);
                    prop_assert_eq!(wheel.pop(), want);
                    if let Some(e) = want {
                        now = e.0;
                    }
                    prop_assert_eq!(wheel.peek(), heap.peek().map(|r| r.0));
                } else {
                    // Mostly near the present (the same fs, a few ps), sometimes far ahead.
                    let ahead = match op { 1 => dt % 4, 2 => dt % 20_000, _ => dt };
                    let e = (now + ahead, cell, input);
                    wheel.push(e);
                    heap.push(Reverse(e));
                }
            }
            while let Some(Reverse(e)) = heap.pop() {
                prop_assert_eq!(wheel.pop(), Some(e));
            }
            prop_assert_eq!(wheel.pop(), None);
        }
    }
}
