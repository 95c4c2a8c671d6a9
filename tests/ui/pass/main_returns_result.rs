//! `main` returning `Result`: `?` converts the error into `main`'s error type, as in a
//! plain `fn main`.

use std::error::Error;

async fn parse_in_a_task(text: &'static str) -> Result<u64, std::num::ParseIntError> {
    arbor::spawn(async move { text.parse() }).await.expect("the task does not panic")
}

#[arbor::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let n = parse_in_a_task("42").await?;
    assert_eq!(n, 42);
    let bad = parse_in_a_task("forty-two").await;
    assert!(bad.is_err());
    if n != 42 {
        return Err("early returns keep their meaning".into());
    }
    Ok(())
}
