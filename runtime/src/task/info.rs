//! Introspection: [`current`], [`all`] and [`dump`] (asyncio's `current_task()`,
//! `all_tasks()` and `python -m asyncio pstree`).
//!
//! ## What a task records
//! - Its id and name (the trailer's `TaskMeta`).
//! - Its parent: the task being polled on the spawning thread when it was spawned
//!   (`TaskMeta::parent`, one `TaskId`, set by `scheduler::Handle::spawn`).
//! - The group it was spawned into: a task group's cancel node carries a [`GroupTag`] (a
//!   fresh group id and the task that opened the group, see `CancelNode::new_detached_group`),
//!   and a group's child already carries that node (`TaskMeta::cancel`).
//!
//! Nothing is allocated per task for introspection: the cost is one `TaskId` in the trailer
//! and one TLS read per spawn.
//!
//! ## Snapshots
//! [`all`] locks the owned-list shards one at a time, briefly, and copies out each listed
//! task's id, name (an `Arc` clone), parent and spawn node. The group chain (the enclosing
//! groups, found through the cancel tree's parent links) is resolved after the locks are
//! released, once per group. Shards are read one after another, so a snapshot is not
//! atomic: a task spawned or completed meanwhile may or may not be in it.
//!
//! ## The tree ([`dump`])
//! Where each item goes:
//! 1. a task spawned into a group sits under that group;
//! 2. any other task sits under its parent task if the parent is alive, else at the root;
//! 3. a group sits under its enclosing group if the same task opened both (a group opened
//!    in another group's body); else under the task that opened it, if alive; else under
//!    its enclosing group, if any; else at the root.
//!
//! Edges lead from an older item to a younger one (a child is spawned after its parent, a
//! group is opened by a task that exists), so the tree has no cycles; the renderer still
//! visits each item at most once and prints whatever it did not reach as a root. Siblings
//! are ordered tasks first, by id, then groups, by id, so a dump is deterministic.

use super::{RawTask, TaskId};
use crate::cancel::CancelNode;
use crate::context;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// How an unnamed task is shown in dumps and slow-poll warnings.
pub(crate) const UNNAMED: &str = "<unnamed>";

/// What a task group registers with its cancel node, so that task dumps can place it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupTag {
    /// Process-unique, never reused.
    id: NonZeroU64,
    /// The task being polled when the group was made, if any.
    opened_by: Option<TaskId>,
}

impl GroupTag {
    /// A fresh group id, opened by the task being polled on this thread.
    pub(crate) fn new() -> GroupTag {
        // Relaxed: uniqueness needs only the atomicity of the increment.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NonZeroU64::new(NEXT.fetch_add(1, Relaxed)).expect("group id counter overflowed");
        GroupTag {
            id,
            opened_by: super::try_id(),
        }
    }
}

/// A snapshot of one live task: what [`current`] and [`all`] return.
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let task = arbor_runtime::task::Builder::new()
///         .name("worker")
///         .spawn(async { arbor_runtime::task::current().unwrap() });
///     let id = task.id();
///     let info = task.await.unwrap();
///     assert_eq!(info.id(), id);
///     assert_eq!(info.name(), Some("worker"));
///     assert_eq!(info.parent(), None); // spawned from `block_on`'s future, not a task
/// });
/// ```
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<Arc<str>>,
    parent: Option<TaskId>,
    group: Option<Arc<GroupInfo>>,
}

impl TaskInfo {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task's name, if it was spawned with one (`task::Builder::name`).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The task that spawned this one (the task being polled on the spawning thread), if
    /// any. It may have finished since.
    pub fn parent(&self) -> Option<TaskId> {
        self.parent
    }

    /// The task group this task was spawned into, if any.
    pub fn group(&self) -> Option<&GroupInfo> {
        self.group.as_deref()
    }
}

/// A task group, as seen from a task spawned into it ([`TaskInfo::group`]).
#[derive(Clone, Debug)]
pub struct GroupInfo {
    id: u64,
    opened_by: Option<TaskId>,
    enclosing: Option<Arc<GroupInfo>>,
}

impl GroupInfo {
    /// The group's id: process-unique, never reused.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The task that opened the group (called `TaskGroup::scope`), if it was opened inside
    /// a task.
    pub fn opened_by(&self) -> Option<TaskId> {
        self.opened_by
    }

    /// The nearest group this one was opened inside: in its body, or in one of its
    /// children at any depth. `None` until the group's scope is first polled.
    pub fn enclosing(&self) -> Option<&GroupInfo> {
        self.enclosing.as_deref()
    }
}

/// The task being polled on this thread (asyncio's `current_task()`).
///
/// `None` outside a task: outside a runtime, and in the future passed to `block_on` /
/// `arbor::run` itself, which is not a task.
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     assert!(arbor_runtime::task::current().is_none()); // block_on's future is no task
///     let name = arbor_runtime::task::Builder::new()
///         .name("fetch")
///         .spawn(async { arbor_runtime::task::current().unwrap().name().map(String::from) });
///     assert_eq!(name.await.unwrap().as_deref(), Some("fetch"));
/// });
/// ```
pub fn current() -> Option<TaskInfo> {
    let task = context::current_task()?;
    Some(resolve(Snapshot::of(task), &mut HashMap::new()))
}

/// Every live task of the current runtime, by id (asyncio's `all_tasks()`): spawned and not
/// yet complete, the calling task included. Blocking calls (`spawn_blocking`, `to_thread`)
/// are not tasks of the runtime and are not listed.
///
/// Empty outside a runtime. The runtime's task list is read one shard at a time, so tasks
/// spawned or completed meanwhile may or may not be listed.
///
/// ```
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let event = std::sync::Arc::new(arbor_runtime::sync::Event::new());
///     let waiting = event.clone();
///     let task = arbor_runtime::task::Builder::new()
///         .name("waiter")
///         .spawn(async move { waiting.wait().await });
///     let names: Vec<_> = arbor_runtime::task::all()
///         .iter()
///         .map(|info| info.name().map(String::from))
///         .collect();
///     assert_eq!(names, [Some("waiter".to_string())]);
///     event.set();
///     task.await.unwrap();
/// });
/// assert!(arbor_runtime::task::all().is_empty()); // outside a runtime
/// ```
pub fn all() -> Vec<TaskInfo> {
    let mut snapshots = Vec::new();
    context::with_handle(|handle| {
        if let Some(handle) = handle {
            handle.for_each_task(|task| snapshots.push(Snapshot::of(task)));
        }
    });
    snapshots.sort_by_key(|s| s.id);
    let mut groups = HashMap::new();
    snapshots
        .into_iter()
        .map(|s| resolve(s, &mut groups))
        .collect()
}

/// The live tasks of the current runtime as a tree, one per line (Python's
/// `python -m asyncio pstree`): each task under the task that spawned it, a group's
/// children under a `TaskGroup (group N)` line, groups nested as they were opened. Tasks
/// show as `name (id N)`, or `<unnamed> (id N)`. Siblings come tasks first, by id, then
/// groups, by id. Empty outside a runtime, or when no task is alive.
///
/// ```
/// use arbor_runtime::task::{self, Builder};
/// use arbor_runtime::sync::Event;
/// use std::sync::Arc;
///
/// let rt = arbor_runtime::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let (spawned, done) = (Arc::new(Event::new()), Arc::new(Event::new()));
///     let (s, d) = (spawned.clone(), done.clone());
///     let server = Builder::new().name("server").spawn(async move {
///         let conn = Builder::new().name("conn").spawn(async move { d.wait().await });
///         s.set();
///         conn.await.unwrap();
///     });
///     spawned.wait().await;
///     let conn = task::all().into_iter().find(|t| t.name() == Some("conn")).unwrap();
///     assert_eq!(
///         task::dump(),
///         format!("server (id {})\n└── conn (id {})\n", server.id(), conn.id())
///     );
///     done.set();
///     server.await.unwrap();
/// });
/// ```
pub fn dump() -> String {
    render(&all())
}

/// What `all` copies out of a task under its shard's lock.
struct Snapshot {
    id: TaskId,
    name: Option<Arc<str>>,
    parent: Option<TaskId>,
    spawned_under: Option<Arc<CancelNode>>,
}

impl Snapshot {
    /// Reads the task's immutable fields; the caller holds a reference to it.
    fn of(task: RawTask) -> Snapshot {
        let meta = &task.trailer().meta;
        Snapshot {
            id: task.id(),
            name: meta.name.clone(),
            parent: meta.parent,
            spawned_under: meta.cancel.clone(),
        }
    }
}

/// Resolves a snapshot's group chain; `groups` caches the groups resolved so far, by id.
fn resolve(snapshot: Snapshot, groups: &mut HashMap<u64, Arc<GroupInfo>>) -> TaskInfo {
    TaskInfo {
        id: snapshot.id,
        name: snapshot.name,
        parent: snapshot.parent,
        group: snapshot
            .spawned_under
            .as_ref()
            .and_then(|node| nearest_group(node, groups)),
    }
}

/// The group of the nearest group node at or above `node` in the cancel tree.
fn nearest_group(
    node: &Arc<CancelNode>,
    groups: &mut HashMap<u64, Arc<GroupInfo>>,
) -> Option<Arc<GroupInfo>> {
    // Find the chain of group nodes from `node` up, stopping at the first one already
    // resolved; then resolve the rest top-down (no recursion: nesting may be deep).
    let mut chain: Vec<(&CancelNode, GroupTag)> = Vec::new();
    let mut resolved_above = None;
    let mut next: Option<&CancelNode> = Some(node);
    while let Some(n) = next {
        if let Some(tag) = n.group_tag() {
            if let Some(known) = groups.get(&tag.id.get()) {
                resolved_above = Some(known.clone());
                break;
            }
            chain.push((n, *tag));
        }
        next = n.parent();
    }
    let mut enclosing = resolved_above;
    for (_, tag) in chain.into_iter().rev() {
        let info = Arc::new(GroupInfo {
            id: tag.id.get(),
            opened_by: tag.opened_by,
            enclosing: enclosing.take(),
        });
        groups.insert(info.id, info.clone());
        enclosing = Some(info);
    }
    enclosing
}

/// One item of the tree. The derived order (tasks before groups, then by id) is the
/// siblings' order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Item {
    Task(TaskId),
    Group(u64),
}

/// Renders tasks as the tree described in the module header.
fn render(tasks: &[TaskInfo]) -> String {
    let live: BTreeMap<TaskId, &TaskInfo> = tasks.iter().map(|t| (t.id, t)).collect();
    let mut groups: BTreeMap<u64, &GroupInfo> = BTreeMap::new();
    for task in tasks {
        let mut next = task.group();
        while let Some(group) = next {
            if groups.insert(group.id, group).is_some() {
                break; // this group's chain is in already
            }
            next = group.enclosing();
        }
    }

    let mut children: BTreeMap<Item, Vec<Item>> = BTreeMap::new();
    let mut roots = Vec::new();
    let mut place = |item: Item, under: Option<Item>| match under {
        Some(parent) => children.entry(parent).or_default().push(item),
        None => roots.push(item),
    };
    for task in tasks {
        let under = match (task.group(), task.parent) {
            (Some(group), _) => Some(Item::Group(group.id)),
            (None, Some(parent)) if live.contains_key(&parent) => Some(Item::Task(parent)),
            _ => None,
        };
        place(Item::Task(task.id), under);
    }
    for group in groups.values() {
        let opener_live = group.opened_by.filter(|id| live.contains_key(id));
        let under = match group.enclosing() {
            Some(outer) if outer.opened_by == group.opened_by => Some(Item::Group(outer.id)),
            outer => opener_live
                .map(Item::Task)
                .or(outer.map(|o| Item::Group(o.id))),
        };
        place(Item::Group(group.id), under);
    }
    roots.sort_unstable();
    for list in children.values_mut() {
        list.sort_unstable();
    }

    let label = |item: Item| match item {
        Item::Task(id) => format!("{} (id {id})", live[&id].name().unwrap_or(UNNAMED)),
        Item::Group(id) => format!("TaskGroup (group {id})"),
    };
    let mut out = String::new();
    let mut seen = BTreeSet::new();
    // Every item, for the (defensive) pass that prints what the roots did not reach.
    let everything = live
        .keys()
        .map(|&id| Item::Task(id))
        .chain(groups.keys().map(|&id| Item::Group(id)));
    for root in roots.iter().copied().chain(everything) {
        if !seen.insert(root) {
            continue;
        }
        writeln!(out, "{}", label(root)).expect("writing to a String");
        // Depth-first with an explicit stack: (item, the prefix of its line, is last).
        let mut stack: Vec<(Item, String, bool)> = Vec::new();
        let push_children = |stack: &mut Vec<(Item, String, bool)>, of: Item, prefix: &str| {
            if let Some(list) = children.get(&of) {
                for (i, &child) in list.iter().enumerate().rev() {
                    stack.push((child, prefix.to_string(), i + 1 == list.len()));
                }
            }
        };
        push_children(&mut stack, root, "");
        while let Some((item, prefix, last)) = stack.pop() {
            if !seen.insert(item) {
                continue;
            }
            let branch = if last { "└── " } else { "├── " };
            writeln!(out, "{prefix}{branch}{}", label(item)).expect("writing to a String");
            let below = format!("{prefix}{}", if last { "    " } else { "│   " });
            push_children(&mut stack, item, &below);
        }
    }
    out
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn group(
        id: u64,
        opened_by: Option<u64>,
        enclosing: Option<&Arc<GroupInfo>>,
    ) -> Arc<GroupInfo> {
        Arc::new(GroupInfo {
            id,
            opened_by: opened_by.map(TaskId::from_u64),
            enclosing: enclosing.cloned(),
        })
    }

    fn task(
        id: u64,
        name: Option<&str>,
        parent: Option<u64>,
        group: Option<&Arc<GroupInfo>>,
    ) -> TaskInfo {
        TaskInfo {
            id: TaskId::from_u64(id),
            name: name.map(Arc::from),
            parent: parent.map(TaskId::from_u64),
            group: group.cloned(),
        }
    }

    #[test]
    fn renders_tasks_groups_and_nested_groups() {
        // main (1) opens group 1 with children 2 and 3; child 3 opens group 2 (child 5)
        // and, in group 2's body, group 3 (child 6); main also spawns 4 outside any group;
        // 7's parent is gone.
        let g1 = group(1, Some(1), None);
        let g2 = group(2, Some(3), Some(&g1));
        let g3 = group(3, Some(3), Some(&g2));
        let tasks = [
            task(1, Some("main"), None, None),
            task(2, Some("fetch"), Some(1), Some(&g1)),
            task(3, None, Some(1), Some(&g1)),
            task(4, Some("logger"), Some(1), None),
            task(5, Some("inner"), Some(3), Some(&g2)),
            task(6, Some("innermost"), Some(3), Some(&g3)),
            task(7, Some("orphan"), Some(99), None),
        ];
        let expected = "\
main (id 1)
├── logger (id 4)
└── TaskGroup (group 1)
    ├── fetch (id 2)
    └── <unnamed> (id 3)
        └── TaskGroup (group 2)
            ├── inner (id 5)
            └── TaskGroup (group 3)
                └── innermost (id 6)
orphan (id 7)
";
        assert_eq!(render(&tasks), expected);
    }

    #[test]
    fn a_group_outlives_its_opener_or_opened_outside_tasks_is_a_root() {
        let g1 = group(1, None, None);
        let g2 = group(2, Some(42), None);
        let tasks = [
            task(10, Some("a"), None, Some(&g1)),
            task(11, Some("b"), Some(42), Some(&g2)),
        ];
        let expected = "\
TaskGroup (group 1)
└── a (id 10)
TaskGroup (group 2)
└── b (id 11)
";
        assert_eq!(render(&tasks), expected);
    }

    #[test]
    fn an_enclosing_group_without_live_children_is_still_shown() {
        let g1 = group(1, None, None);
        let g2 = group(2, None, Some(&g1));
        let tasks = [task(5, Some("deep"), None, Some(&g2))];
        let expected = "\
TaskGroup (group 1)
└── TaskGroup (group 2)
    └── deep (id 5)
";
        assert_eq!(render(&tasks), expected);
    }

    #[test]
    fn nothing_renders_as_nothing() {
        assert_eq!(render(&[]), "");
    }
}
