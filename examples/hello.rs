//! `asyncio.run(main())`, arbor style: spawn tasks, await them, call blocking code.
//!
//! Run it with `cargo run --release --example hello`.

use std::time::Duration;

async fn greet(name: &'static str, delay_ms: u64) -> String {
    // Blocking work goes to the blocking pool; the workers stay free.
    arbor::to_thread(move || std::thread::sleep(Duration::from_millis(delay_ms))).await;
    format!("hello, {name}")
}

fn main() {
    let greetings = arbor::run(async {
        let tasks: Vec<arbor::Task<String>> = [("asyncio", 30), ("trio", 10), ("arbor", 20)]
            .into_iter()
            .map(|(name, delay)| {
                arbor::task::Builder::new()
                    .name(name)
                    .spawn(greet(name, delay))
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            let name = task.name().unwrap_or("?").to_string();
            out.push((name, task.await.expect("greet does not fail")));
        }
        out
    });
    for (task, greeting) in greetings {
        println!("{task}: {greeting}");
    }
}
