//! Size settings: one number, or a range in any of the forms a person writes.

use std::ops::{Range, RangeInclusive, RangeTo, RangeToInclusive};

/// A size setting: one number (`3`) or a range to draw from (`2..=4`, `2..5`, `..=4`, `..5`).
///
/// A range without a start (`..=4`: "at most 4") starts at the setting's own minimum: 1 for
/// threads and operations per thread, 0 for the init and post parts.
pub trait SizeRange {
    /// The range this setting means (a range without a start begins at 0 here; the setting then
    /// raises that to its own minimum, see [`SizeRange::open_start`]).
    fn range(self) -> RangeInclusive<usize>;

    /// Whether the range was written without a start (`..=4`, `..5`).
    fn open_start(&self) -> bool {
        false
    }
}

impl SizeRange for usize {
    fn range(self) -> RangeInclusive<usize> {
        self..=self
    }
}

impl SizeRange for RangeInclusive<usize> {
    fn range(self) -> RangeInclusive<usize> {
        self
    }
}

impl SizeRange for Range<usize> {
    fn range(self) -> RangeInclusive<usize> {
        match self.end.checked_sub(1) {
            Some(last) if last >= self.start => self.start..=last,
            // Empty (`2..2`), and it stays empty (`2..=1`) for the check's validation to name.
            _ => {
                let start = self.start.max(1);
                start..=start - 1
            }
        }
    }
}

impl SizeRange for RangeToInclusive<usize> {
    fn range(self) -> RangeInclusive<usize> {
        0..=self.end
    }

    fn open_start(&self) -> bool {
        true
    }
}

impl SizeRange for RangeTo<usize> {
    fn range(self) -> RangeInclusive<usize> {
        (0..self.end).range()
    }

    fn open_start(&self) -> bool {
        true
    }
}

/// The range a setting with minimum `min` means.
pub(super) fn resolve(n: impl SizeRange, min: usize) -> RangeInclusive<usize> {
    let open = n.open_start();
    let r = n.range();
    if open {
        (*r.start()).max(min)..=*r.end()
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_means_what_it_says() {
        assert_eq!(resolve(3, 1), 3..=3);
        assert_eq!(resolve(2..=4, 1), 2..=4);
        assert_eq!(resolve(2..5, 1), 2..=4);
        assert_eq!(resolve(..=4, 1), 1..=4);
        assert_eq!(resolve(..=4, 0), 0..=4);
        assert_eq!(resolve(..5, 1), 1..=4);
        assert!(resolve(2..2, 1).is_empty());
        assert!(resolve(0..0, 0).is_empty());
    }
}
