//! Named group children (`tg.builder().name(..)`): the name reaches the task's tracing span
//! and the runtime's slow-poll warnings, as for a task named with `task::Builder`.
//!
//! Workers are other threads, so the collecting subscriber is the global default; the test
//! looks only at spans and events naming its own tasks.

use arbor::TaskGroup;
use arbor::runtime::{Builder, Runtime};
use arbor::task::SLOW_POLL_TARGET;
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// How long the slow child blocks its worker (the slow poll being reported, not a wait).
const BLOCK: Duration = Duration::from_millis(30);
/// A threshold well below `BLOCK`.
const LOW: Duration = Duration::from_millis(5);

/// The `name` field of every span, and the fields of every slow-poll warning.
static SPAN_NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static WARNINGS: Mutex<Vec<HashMap<String, String>>> = Mutex::new(Vec::new());

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

/// Records task spans and slow-poll warnings.
struct Collector;

impl Subscriber for Collector {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_span() || *metadata.level() <= Level::WARN
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        if attrs.metadata().name() == "task" {
            if let Some(name) = fields.remove("name") {
                SPAN_NAMES.lock().unwrap().push(name);
            }
        }
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if event.metadata().target() == SLOW_POLL_TARGET {
            let mut fields = HashMap::new();
            event.record(&mut Fields(&mut fields));
            WARNINGS.lock().unwrap().push(fields);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", Builder::new_current_thread()),
        (
            "multi_thread_1",
            Builder::new_multi_thread().worker_threads(1),
        ),
        (
            "multi_thread_4",
            Builder::new_multi_thread().worker_threads(4),
        ),
    ]
    .into_iter()
    .map(|(flavour, b)| (flavour, b.slow_poll_threshold(LOW).build().unwrap()))
    .collect()
}

#[test]
fn a_named_childs_name_is_in_its_span_and_slow_poll_warnings() {
    tracing::subscriber::set_global_default(Collector).unwrap();
    for (flavour, rt) in runtimes() {
        let name = format!("conn {flavour}");
        let n = name.clone();
        let id = rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            let child = tg.builder().name(&n).spawn(async {
                std::thread::sleep(BLOCK);
                Ok(())
            });
            let id = child.id().as_u64();
            child.await.unwrap();
            Ok(id)
        }));
        let id = id.unwrap();
        assert!(
            SPAN_NAMES.lock().unwrap().contains(&name),
            "{flavour}: the child's span carries its name"
        );
        let warnings: Vec<_> = WARNINGS
            .lock()
            .unwrap()
            .iter()
            .filter(|w| w.get("task.name") == Some(&name))
            .cloned()
            .collect();
        assert_eq!(warnings.len(), 1, "{flavour}: {warnings:?}");
        assert_eq!(warnings[0]["task.id"], id.to_string(), "{flavour}");
    }
}
