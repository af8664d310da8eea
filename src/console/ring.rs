//! A bounded first-in first-out buffer that counts what it evicts, so that
//! the console's log lines and invocations stay within a fixed memory
//! budget however long a batch runs (bottom prunes its history the same
//! way), and a pane can say how much it no longer holds.

use std::collections::VecDeque;

/// At most `cap` items; pushing onto a full ring drops the oldest.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    items: VecDeque<T>,
    cap: usize,
    evicted: u64,
}

impl<T> Ring<T> {
    /// An empty ring holding at most `cap` items (at least 1).
    pub fn new(cap: usize) -> Ring<T> {
        Ring {
            items: VecDeque::new(),
            cap: cap.max(1),
            evicted: 0,
        }
    }

    /// Appends, dropping the oldest item when full; returns it.
    pub fn push(&mut self, item: T) -> Option<T> {
        let out = if self.items.len() == self.cap {
            self.evicted += 1;
            self.items.pop_front()
        } else {
            None
        };
        self.items.push_back(item);
        out
    }

    /// Items held.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The capacity.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Items dropped so far to stay within the capacity.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The sequence number of the oldest item held: item `i` is number
    /// `first_seq() + i` for as long as it is held.
    pub fn first_seq(&self) -> u64 {
        self.evicted
    }

    /// The item of sequence number `seq`, if still held.
    pub fn by_seq(&self, seq: u64) -> Option<&T> {
        seq.checked_sub(self.evicted)
            .and_then(|i| self.items.get(i as usize))
    }

    /// The `i`-th oldest item held.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.items.get(i)
    }

    /// The `i`-th oldest item held, mutably.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.items.get_mut(i)
    }

    /// Oldest first.
    pub fn iter(&self) -> std::collections::vec_deque::Iter<'_, T> {
        self.items.iter()
    }

    /// The newest item.
    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    /// Drops everything (the eviction count too).
    pub fn clear(&mut self) {
        self.items.clear();
        self.evicted = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_counts_the_evicted() {
        let mut r = Ring::new(3);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(r.evicted(), 2);
        assert_eq!(r.len(), 3);
        assert_eq!(r.last(), Some(&4));
        r.clear();
        assert!(r.is_empty());
        assert_eq!(r.evicted(), 0);
    }
}
