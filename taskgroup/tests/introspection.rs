//! Task groups in the task tree: `task::all` reports each child's group, and `task::dump`
//! nests a group's children under a `TaskGroup` line, groups opened in children or in
//! bodies nested as they were opened.

mod support;

use arbor_runtime::sync::{Event, mpsc};
use arbor_runtime::task::{self, Builder, TaskId};
use arbor_taskgroup::TaskGroup;
use std::collections::HashMap;
use std::sync::Arc;

/// The id of the live task named `name`.
fn id(name: &str) -> TaskId {
    task::all()
        .into_iter()
        .find(|t| t.name() == Some(name))
        .unwrap_or_else(|| panic!("no live task named {name}"))
        .id()
}

rt_test! {
    fn dump_nests_groups_and_their_children(rt: &Runtime) {
        rt.block_on(async {
            let gate = Arc::new(Event::new());
            // Each group child reports its id once it runs (group children are unnamed).
            let (report, mut reports) = mpsc::unbounded_channel::<(&'static str, TaskId)>();
            let child = |label: &'static str| {
                let (gate, report) = (gate.clone(), report.clone());
                async move {
                    report.send((label, task::try_id().unwrap())).unwrap();
                    gate.wait().await;
                    Ok::<(), ()>(())
                }
            };
            let (fetch, inner, innermost) = (child("fetch"), child("inner"), child("innermost"));
            let g = gate.clone();
            let main = Builder::new().name("main").spawn(async move {
                let g0 = g.clone();
                let logger = Builder::new().name("logger").spawn(async move { g0.wait().await });
                TaskGroup::<()>::scope(|tg| async move {
                    drop(tg.spawn(fetch));
                    // A plain spawn from the body: the body runs in `main`, so the task goes
                    // under `main`, not under the group.
                    let side = Builder::new().name("side").spawn(async move { g.wait().await });
                    let parser = tg.spawn(async move {
                        report.send(("parser", task::try_id().unwrap())).unwrap();
                        // A group opened in a child, and one opened in that group's body.
                        TaskGroup::<()>::scope(|tg2| async move {
                            drop(tg2.spawn(inner));
                            TaskGroup::<()>::scope(|tg3| async move {
                                drop(tg3.spawn(innermost));
                                Ok(())
                            })
                            .await
                            .unwrap();
                            Ok(())
                        })
                        .await
                        .unwrap();
                        Ok(())
                    });
                    side.await.unwrap();
                    parser.await.unwrap();
                    Ok(())
                })
                .await
                .unwrap();
                logger.await.unwrap();
            });
            let mut ids = HashMap::new();
            for _ in 0..4 {
                let (label, id) = reports.recv().await.unwrap();
                ids.insert(label, id);
            }
            let all = task::all();
            let of = |id: TaskId| all.iter().find(|t| t.id() == id).unwrap();
            let g1 = of(ids["fetch"]).group().unwrap();
            let g2 = of(ids["inner"]).group().unwrap();
            let g3 = of(ids["innermost"]).group().unwrap();
            assert_eq!(g1.opened_by(), Some(main.id()));
            assert_eq!(of(ids["parser"]).group().unwrap().id(), g1.id());
            assert_eq!(g2.opened_by(), Some(ids["parser"]));
            assert_eq!(g2.enclosing().unwrap().id(), g1.id(), "opened in a child of g1");
            assert_eq!(g3.opened_by(), Some(ids["parser"]));
            assert_eq!(g3.enclosing().unwrap().id(), g2.id(), "opened in g2's body");
            assert_eq!(of(id("side")).parent(), Some(main.id()));
            assert!(of(id("side")).group().is_none());

            let expected = format!(
                "main (id {main})\n\
                 ├── logger (id {logger})\n\
                 ├── side (id {side})\n\
                 └── TaskGroup (group {g1})\n\
                 \x20   ├── <unnamed> (id {fetch})\n\
                 \x20   └── <unnamed> (id {parser})\n\
                 \x20       └── TaskGroup (group {g2})\n\
                 \x20           ├── <unnamed> (id {inner})\n\
                 \x20           └── TaskGroup (group {g3})\n\
                 \x20               └── <unnamed> (id {innermost})\n",
                main = main.id(),
                logger = id("logger"),
                side = id("side"),
                g1 = g1.id(),
                fetch = ids["fetch"],
                parser = ids["parser"],
                g2 = g2.id(),
                inner = ids["inner"],
                g3 = g3.id(),
                innermost = ids["innermost"],
            );
            assert_eq!(task::dump(), expected);
            gate.set();
            main.await.unwrap();
        });
    }
}

rt_test! {
    fn a_group_opened_outside_any_task_is_a_root(rt: &Runtime) {
        rt.block_on(async {
            let gate = Arc::new(Event::new());
            let g = gate.clone();
            TaskGroup::<()>::scope(|tg| async move {
                let child = tg.spawn(async move {
                    g.wait().await;
                    Ok(())
                });
                let all = task::all();
                assert_eq!(all.len(), 1);
                let named = &all[0];
                assert_eq!(named.id(), child.id());
                let group = named.group().expect("spawned into the group");
                assert_eq!(group.opened_by(), None, "block_on's future is no task");
                assert!(group.enclosing().is_none());
                assert_eq!(
                    task::dump(),
                    format!("TaskGroup (group {})\n└── <unnamed> (id {})\n", group.id(), named.id())
                );
                gate.set();
                child.await.unwrap();
                Ok(())
            })
            .await
            .unwrap();
        });
    }
}

rt_test! {
    /// `tg.builder().name(..).spawn(..)`: the child's `Task::name`, `task::all` and its line
    /// in `task::dump()` carry the name; an unnamed sibling stays `<unnamed>`.
    fn named_children_show_their_names(rt: &Runtime) {
        rt.block_on(async {
            let gate = Arc::new(Event::new());
            let (g1, g2) = (gate.clone(), gate.clone());
            TaskGroup::<()>::scope(|tg| async move {
                let conn = tg.builder().name("conn 10.0.0.7:55012").spawn(async move {
                    g1.wait().await;
                    Ok(1)
                });
                let other = tg.spawn(async move {
                    g2.wait().await;
                    Ok(2)
                });
                assert_eq!(conn.name(), Some("conn 10.0.0.7:55012"));
                assert_eq!(other.name(), None);
                assert_eq!(id("conn 10.0.0.7:55012"), conn.id());
                let group = task::all()[0].group().unwrap().id();
                assert_eq!(
                    task::dump(),
                    format!(
                        "TaskGroup (group {group})\n\
                         ├── conn 10.0.0.7:55012 (id {})\n\
                         └── <unnamed> (id {})\n",
                        conn.id(),
                        other.id()
                    )
                );
                gate.set();
                assert_eq!(conn.await.unwrap(), 1);
                assert_eq!(other.await.unwrap(), 2);
                Ok(())
            })
            .await
            .unwrap();
        });
    }
}
