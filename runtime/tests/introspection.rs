//! Task introspection: `task::current`, `task::all`, `task::dump`, on every flavour.

mod support;

use arbor_runtime::sync::{Event, mpsc};
use arbor_runtime::task::{self, Builder, TaskId, TaskInfo};
use arbor_runtime::{spawn, yield_now};
use std::sync::Arc;

/// The id of the live task named `name`.
fn id_of(name: &str) -> TaskId {
    task::all()
        .iter()
        .find(|t| t.name() == Some(name))
        .unwrap_or_else(|| panic!("no live task named {name}"))
        .id()
}

/// Yields until the task `id` has left the runtime's task list (a finished task leaves it
/// right after waking its awaiter).
async fn gone(id: TaskId) {
    while task::all().iter().any(|t| t.id() == id) {
        yield_now().await;
    }
}

rt_test! {
    fn current_names_the_task_being_polled(rt: &Runtime) {
        rt.block_on(async {
            assert!(task::current().is_none(), "block_on's future is not a task");
            let outer = Builder::new().name("outer").spawn(async {
                let me = task::current().unwrap();
                let inner = spawn(async { task::current().unwrap() });
                let inner_id = inner.id();
                let inner_info = inner.await.unwrap();
                assert_eq!(inner_info.id(), inner_id);
                assert_eq!(inner_info.name(), None);
                assert_eq!(inner_info.parent(), Some(me.id()), "spawned by `outer`");
                me
            });
            let id = outer.id();
            let me: TaskInfo = outer.await.unwrap();
            assert_eq!(me.id(), id);
            assert_eq!(me.name(), Some("outer"));
            assert_eq!(me.parent(), None, "spawned from block_on's future");
            assert!(me.group().is_none());
        });
    }
}

rt_test! {
    fn all_lists_exactly_the_live_tasks_by_id(rt: &Runtime) {
        rt.block_on(async {
            assert!(task::all().is_empty());
            let gate = Arc::new(Event::new());
            let tasks: Vec<_> = (0..20)
                .map(|i| {
                    let gate = gate.clone();
                    Builder::new()
                        .name(&format!("t{i}"))
                        .spawn(async move { gate.wait().await })
                })
                .collect();
            let listed = task::all();
            let ids: Vec<TaskId> = listed.iter().map(TaskInfo::id).collect();
            let mut expected: Vec<TaskId> = tasks.iter().map(|t| t.id()).collect();
            expected.sort();
            assert_eq!(ids, expected, "every live task, in id order");
            for (info, task) in listed.iter().zip(&tasks) {
                assert_eq!(info.name(), task.name());
            }
            gate.set();
            for task in tasks {
                task.await.unwrap();
            }
            // A finished task leaves the list right after waking its handle.
            while !task::all().is_empty() {
                yield_now().await;
            }
        });
    }
}

rt_test! {
    fn dump_nests_tasks_under_their_spawner(rt: &Runtime) {
        rt.block_on(async {
            let gate = Arc::new(Event::new());
            let (ready, mut spawned) = mpsc::unbounded_channel::<()>();
            // An orphan: its parent finishes while it lives on.
            let orphan_parent = {
                let gate = gate.clone();
                Builder::new().name("orphan-parent").spawn(async move {
                    drop(Builder::new().name("orphan").spawn(async move { gate.wait().await }));
                })
            };
            let orphan_parent_id = orphan_parent.id();
            orphan_parent.await.unwrap();
            gone(orphan_parent_id).await;

            let g = gate.clone();
            let root = Builder::new().name("server").spawn(async move {
                let (g1, g2, ready2) = (g.clone(), g.clone(), ready.clone());
                let a = Builder::new().name("conn").spawn(async move {
                    let leaf = Builder::new().name("reader").spawn(async move { g1.wait().await });
                    ready2.send(()).unwrap();
                    leaf.await.unwrap();
                });
                let b = spawn(async move { g2.wait().await });
                ready.send(()).unwrap();
                a.await.unwrap();
                b.await.unwrap();
            });
            spawned.recv().await.unwrap();
            spawned.recv().await.unwrap();

            let unnamed = task::all().iter().find(|t| t.name().is_none()).unwrap().id();
            // Roots in id order: the orphan was spawned first.
            let expected = format!(
                "orphan (id {})\n\
                 server (id {})\n\
                 ├── conn (id {})\n\
                 │   └── reader (id {})\n\
                 └── <unnamed> (id {unnamed})\n",
                id_of("orphan"),
                root.id(),
                id_of("conn"),
                id_of("reader"),
            );
            assert_eq!(task::dump(), expected);
            gate.set();
            root.await.unwrap();
        });
    }
}

#[test]
fn nothing_is_listed_outside_a_runtime() {
    assert!(task::current().is_none());
    assert!(task::all().is_empty());
    assert_eq!(task::dump(), "");
}

#[test]
fn a_runtime_lists_only_its_own_tasks() {
    let one = arbor_runtime::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let two = arbor_runtime::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let elsewhere = one.spawn(async move { g.wait().await });
    two.block_on(async {
        assert!(
            task::all().is_empty(),
            "the other runtime's task is not listed"
        );
        let here = spawn(async {});
        assert_eq!(task::all().len(), 1);
        here.await.unwrap();
    });
    gate.set();
    one.block_on(elsewhere).unwrap();
}
