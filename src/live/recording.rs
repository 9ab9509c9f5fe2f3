//! A recording being made: samples appended as they arrive, one profile per thread, from which a
//! profile set can be taken at any moment (for the UI to show, or to save). Knows nothing of
//! py-spy: the sampler hands it plain stacks, and benches and tests feed it their own.

use std::path::PathBuf;
use std::time::Duration;

use rustc_hash::FxHashMap;

use crate::import::{Format, Loaded};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, Profile, ProfileSet, TimelineSample, Unit,
};

/// One frame of a sampled stack, as the profiler read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampledFrame<'a> {
    pub name: &'a str,
    pub file: &'a str,
    /// 0 where the line is unknown.
    pub line: u32,
}

/// What identifies a thread across samples: the process and the thread's own id.
pub type ThreadKey = (i32, u64);

struct Thread {
    name: String,
    tree: CallTreeBuilder,
    timeline: Vec<TimelineSample>,
}

/// How sampling has gone so far, for the badge and the closing line.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    /// Samples a second asked for.
    pub rate: u64,
    /// Stacks recorded, every thread's added up.
    pub samples: u64,
    /// Time since sampling began.
    pub elapsed: Duration,
    /// Times the process could not be read (a torn read, a thread gone): no stack came of them.
    pub lost: u64,
    /// How far behind its schedule the sampler is at worst (it catches up by sampling at once).
    pub behind: Duration,
}

/// Samples so far, by thread, in the order they came.
pub struct Recording {
    frames: FrameTable,
    threads: Vec<Thread>,
    by_key: FxHashMap<ThreadKey, usize>,
    /// Seconds one sample stands for (1 / rate), as py-spy's speedscope files weigh them.
    interval: f64,
    pub progress: Progress,
    /// Stack frames of the sample being added, root first; kept to spare an allocation each.
    scratch: Vec<FrameId>,
}

impl Recording {
    pub fn new(rate: u64) -> Recording {
        Recording {
            frames: FrameTable::new(FunctionKey::NameFile),
            threads: Vec::new(),
            by_key: FxHashMap::default(),
            interval: 1.0 / rate.max(1) as f64,
            progress: Progress {
                rate,
                ..Progress::default()
            },
            scratch: Vec::new(),
        }
    }

    /// Appends one stack of `thread` (named by `name` the first time it is seen), `frames`
    /// innermost first, as py-spy reads them.
    pub fn add<'a>(
        &mut self,
        thread: ThreadKey,
        name: impl FnOnce() -> String,
        frames: impl DoubleEndedIterator<Item = SampledFrame<'a>>,
    ) {
        let index = *self.by_key.entry(thread).or_insert_with(|| {
            self.threads.push(Thread {
                name: name(),
                tree: CallTreeBuilder::new(),
                timeline: Vec::new(),
            });
            self.threads.len() - 1
        });
        self.scratch.clear();
        for frame in frames.rev() {
            let file = (!frame.file.is_empty()).then_some(frame.file);
            let line = (frame.line != 0).then_some(frame.line);
            self.scratch
                .push(self.frames.intern(frame.name, file, line));
        }
        let thread = &mut self.threads[index];
        let leaf = thread.tree.add_stack(&self.scratch, self.interval);
        thread.timeline.push(TimelineSample {
            leaf,
            weight: self.interval,
        });
        self.progress.samples += 1;
    }

    pub fn samples(&self) -> u64 {
        self.progress.samples
    }

    /// Every sample so far as a loaded file named `path`: one profile per thread in the order
    /// the threads were first seen, each sample weighing 1/rate seconds in recorded order.
    pub fn snapshot(&self, path: PathBuf) -> Loaded {
        let profiles = self
            .threads
            .iter()
            .map(|thread| {
                let tree = thread.tree.clone().finish();
                let mut profile = Profile::from_tree(thread.name.clone(), Unit::Seconds, tree);
                profile.timeline = Some(thread.timeline.clone());
                profile.start_value = Some(0.0);
                profile.end_value = Some(profile.total);
                profile
            })
            .collect();
        Loaded {
            path,
            format: Format::Speedscope,
            set: ProfileSet {
                frames: self.frames.clone(),
                profiles,
            },
            warnings: Vec::new(),
            base: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::NodeId;

    fn frame(name: &str) -> SampledFrame<'_> {
        SampledFrame {
            name,
            file: "prog.py",
            line: 3,
        }
    }

    #[test]
    fn samples_go_to_their_thread_in_order_with_the_stack_root_first() {
        let mut recording = Recording::new(100);
        let main = (1, 10);
        let worker = (1, 11);
        // py-spy gives stacks innermost first.
        recording.add(
            main,
            || "main".into(),
            [frame("hot"), frame("<module>")].into_iter(),
        );
        recording.add(worker, || "worker".into(), [frame("wait")].into_iter());
        recording.add(
            main,
            || unreachable!(),
            [frame("cold"), frame("<module>")].into_iter(),
        );
        recording.add(
            main,
            || unreachable!(),
            [frame("hot"), frame("<module>")].into_iter(),
        );
        let loaded = recording.snapshot("rec.json".into());
        let set = &loaded.set;
        assert_eq!(set.profiles.len(), 2);
        let main = &set.profiles[0];
        assert_eq!(main.name, "main");
        assert!((main.total - 0.03).abs() < 1e-12);
        let timeline = main.timeline.as_ref().unwrap();
        let names: Vec<String> = timeline
            .iter()
            .map(|s| {
                let stack = main.tree().stack(s.leaf);
                stack
                    .iter()
                    .map(|&f| set.frames.frame(f).name.to_owned())
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .collect();
        assert_eq!(names, ["<module>;hot", "<module>;cold", "<module>;hot"]);
        assert_eq!(main.tree().children(NodeId::ROOT).len(), 1);
        assert_eq!(set.profiles[1].name, "worker");
        assert_eq!(recording.samples(), 4);
    }

    #[test]
    fn a_snapshot_leaves_the_recording_to_grow() {
        let mut recording = Recording::new(50);
        recording.add((1, 1), || "t".into(), [frame("a")].into_iter());
        let first = recording.snapshot("r".into());
        recording.add((1, 1), || "t".into(), [frame("b"), frame("a")].into_iter());
        let second = recording.snapshot("r".into());
        assert!((first.set.profiles[0].total - 0.02).abs() < 1e-12);
        assert!((second.set.profiles[0].total - 0.04).abs() < 1e-12);
        assert_eq!(second.set.profiles[0].timeline.as_ref().unwrap().len(), 2);
    }
}
