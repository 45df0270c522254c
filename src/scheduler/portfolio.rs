use super::{Alternatives, Strategy, Upcoming};
use crate::record::{Access, Event, Footprint};

/// Several strategies sharing one scenario's schedules: each execution goes to the next member in
/// turn, and a systematic member that has explored everything drops out, passing its turns on. No
/// member needs to be the right one for the bug: each gets an equal part of the budget.
pub(crate) struct Portfolio {
    members: Vec<(String, Box<dyn Strategy>)>,
    live: Vec<bool>,
    turn: usize,
    current: usize,
}

impl Portfolio {
    pub(crate) fn new(members: Vec<(String, Box<dyn Strategy>)>) -> Self {
        let live = vec![true; members.len()];
        Portfolio {
            members,
            live,
            turn: 0,
            current: 0,
        }
    }
}

impl Strategy for Portfolio {
    fn new_execution(&mut self) -> bool {
        let n = self.members.len();
        for k in 0..n {
            let m = (self.turn + k) % n;
            if !self.live[m] {
                continue;
            }
            if self.members[m].1.new_execution() {
                self.current = m;
                self.turn = m + 1;
                return true;
            }
            self.live[m] = false;
        }
        false
    }

    fn next(&mut self, runnable: &[usize], current: Option<usize>, yielding: bool) -> Option<usize> {
        self.members[self.current].1.next(runnable, current, yielding)
    }

    fn next_index(&mut self, count: usize) -> Option<usize> {
        self.members[self.current].1.next_index(count)
    }

    fn choose(&mut self, point: &Alternatives) -> Option<usize> {
        self.members[self.current].1.choose(point)
    }

    fn exhausted(&self) -> bool {
        self.members.iter().all(|(_, m)| m.exhausted())
    }

    fn describe(&self) -> Option<String> {
        self.members.get(self.current).map(|(name, _)| name.clone())
    }

    fn wants_upcoming(&self) -> bool {
        self.members.iter().any(|(_, m)| m.wants_upcoming())
    }

    fn upcoming(&mut self, upcoming: &Upcoming<'_>) {
        let member = &mut self.members[self.current].1;
        if member.wants_upcoming() {
            member.upcoming(upcoming);
        }
    }

    fn wants_steps(&self) -> bool {
        self.members[self.current].1.wants_steps()
    }

    fn stepped(&mut self, step: &Footprint) {
        self.members[self.current].1.stepped(step)
    }

    fn ran(&mut self, task: usize, access: Option<(Access, usize)>) {
        let member = &mut self.members[self.current].1;
        if member.wants_upcoming() {
            member.ran(task, access);
        }
    }

    fn finished(&mut self, events: &[Event]) {
        let member = &mut self.members[self.current].1;
        if member.wants_upcoming() {
            member.finished(events);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Dfs;
    use super::*;

    #[test]
    fn members_take_turns_and_finished_ones_drop_out() {
        let members: Vec<(String, Box<dyn Strategy>)> = vec![
            ("a".into(), Box::new(Dfs::new(Some(0)))),
            ("b".into(), Box::new(super::super::Random::new(1))),
        ];
        let mut p = Portfolio::new(members);
        let mut seen = Vec::new();
        for _ in 0..6 {
            assert!(p.new_execution());
            seen.push(p.describe().unwrap());
            // One scheduling point with two threads, so the bounded search has two schedules.
            p.next(&[1, 2], None, false);
        }
        assert_eq!(seen, ["a", "b", "a", "b", "b", "b"]);
        assert!(!p.exhausted(), "a random member never finishes");
    }
}
