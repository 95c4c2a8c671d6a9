#[arbor::main]
async fn main(name: String) {
    println!("{name}");
}

#[arbor::test]
async fn test_with_argument(n: u32) {
    assert_eq!(n, 1);
}
