use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let mut it = input.split_whitespace().map(|s| s.parse::<i64>().unwrap());
    let (a, b) = (it.next().unwrap(), it.next().unwrap());
    println!("{}", a + b);
}
