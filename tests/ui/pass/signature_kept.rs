//! The rest of the signature survives: a name other than `main`, visibility, doc comments,
//! inner attributes, a return value, an `impl Trait` return type, generic parameters; and
//! the body resolves paths (`super::`) from its module.

fn forty() -> u32 {
    40
}

mod app {
    /// Runs the app and returns its exit status.
    #[arbor::main(flavor = "current_thread")]
    pub async fn run() -> u32 {
        // `let_underscore_lock` is deny-by-default: this compiles only if the inner
        // attribute still applies to the body.
        #![allow(let_underscore_lock, reason = "the lock is released at once on purpose")]
        let lock = std::sync::Mutex::new(());
        let _ = lock.lock();
        arbor::spawn(async { super::forty() }).await.unwrap() + 2
    }

    #[arbor::main(worker_threads = 1)]
    pub async fn describe() -> impl std::fmt::Display {
        arbor::to_thread(|| "done").await
    }

    #[arbor::main(flavor = "current_thread")]
    pub async fn make<T: Default + Send + 'static, const N: usize>() -> [T; N] {
        let one = arbor::spawn(async { T::default() }).await.unwrap();
        let mut rest = [(); N].map(|()| T::default());
        if let Some(first) = rest.first_mut() {
            *first = one;
        }
        rest
    }
}

fn main() {
    // Each call builds and shuts down its own runtime, so they can follow one another.
    assert_eq!(app::run(), 42);
    assert_eq!(app::describe().to_string(), "done");
    assert_eq!(app::run(), 42);
    assert_eq!(app::make::<String, 3>(), [String::new(), String::new(), String::new()]);
}
