//! A `tracing` subscriber that records events, for tests of what the runtime logs.
//! Workers are other threads, so it is installed as the global default, once per test
//! binary; each test looks only at the events that name its own tasks.

#![allow(dead_code, reason = "each test binary uses its own share")]

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One event: its target and fields, rendered as strings.
#[derive(Debug, Clone)]
pub struct Logged {
    pub target: String,
    pub fields: HashMap<String, String>,
}

static EVENTS: Mutex<Vec<Logged>> = Mutex::new(Vec::new());

/// Records every event at `level` or more severe; spans are disabled.
struct Collector(Level);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

impl Subscriber for Collector {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && *metadata.level() <= self.0
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        EVENTS.lock().unwrap().push(Logged {
            target: event.metadata().target().to_string(),
            fields,
        });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Installs the recorder for events at `level` or more severe (the first call's level
/// holds for the whole binary).
pub fn install(level: Level) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(Collector(level)).unwrap());
}

/// The events recorded whose `task.name` field is `name`.
pub fn naming(name: &str) -> Vec<Logged> {
    EVENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.fields.get("task.name").map(String::as_str) == Some(name))
        .cloned()
        .collect()
}
