fn main() {
    let n: usize = std::env::args().nth(1).map_or(20, |s| s.parse().unwrap());
    let seed: u64 = std::env::args().nth(2).map_or(1, |s| s.parse().unwrap());
    let p = grad_fuzz::generator::generate(n, seed);
    for q in &p {
        println!("{}", q.source);
    }
}
