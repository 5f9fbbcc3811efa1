//! Vectors whose items were moved on, kept to be filled again. Decoding threads fill
//! vectors that the reading thread empties: freed there, their memory goes back to the
//! system (reports hand freed pages back at once, to keep their peak low) and the next
//! block faults it in and zeroes it again. Handed back here instead, the same memory
//! carries block after block: a report from a 2 GB dump took 860,000 page faults before,
//! most of them for this.

use std::sync::{Mutex, PoisonError};

pub struct Spare<T> {
    vecs: Mutex<Vec<Vec<T>>>,
}

impl<T> Default for Spare<T> {
    fn default() -> Self {
        Spare {
            vecs: Mutex::new(Vec::new()),
        }
    }
}

impl<T> Spare<T> {
    /// An empty vector, with the capacity of one handed back if there is one.
    pub fn take(&self) -> Vec<T> {
        self.vecs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    /// Keeps `v`'s memory for a later `take`. As many are kept as were in use at once,
    /// so this holds no more than the busiest moment did.
    pub fn give(&self, mut v: Vec<T>) {
        v.clear();
        if v.capacity() > 0 {
            self.vecs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_handed_back_is_taken_again_empty_with_its_memory() {
        let spare = Spare::default();
        assert_eq!(spare.take().capacity(), 0);
        let mut v: Vec<String> = Vec::with_capacity(100);
        v.push("x".into());
        let at = v.as_ptr();
        spare.give(v);
        let again = spare.take();
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), at);
        assert!(again.capacity() >= 100);
        // Only one was kept.
        assert_eq!(spare.take().capacity(), 0);
    }
}
