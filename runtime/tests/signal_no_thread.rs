//! Signal delivery starts no thread: the process has as many threads after a runtime
//! received signals as before it listened. Alone in its binary, so no other test's threads
//! are counted.
#![cfg(target_os = "linux")]

use arbor_runtime::runtime::Builder;
use arbor_runtime::signal::{SIGHUP, SIGUSR1, Signals};

/// The threads of this process, from `/proc/self/task`.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn receiving_signals_starts_no_thread() {
    for multi in [false, true] {
        let rt = if multi {
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap()
        } else {
            Builder::new_current_thread().build().unwrap()
        };
        let before = threads();
        rt.block_on(async {
            let mut signals = Signals::new([SIGUSR1, SIGHUP]).unwrap();
            for signal in [SIGUSR1, SIGHUP, SIGUSR1] {
                // SAFETY: `raise` sends the signal to this thread; a listener is installed.
                assert_eq!(unsafe { libc::raise(signal) }, 0);
                assert_eq!(signals.next().await, Some(signal));
            }
        });
        assert_eq!(threads(), before, "multi-thread: {multi}");
    }
}
