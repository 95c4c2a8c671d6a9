#[arbor::main]
struct App;

fn main() {}
