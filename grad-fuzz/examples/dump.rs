//! Prints generated programs: `dump [count] [seed] [tensor]` (scalar programs unless the
//! third argument is `tensor`; `GRAD_FUZZ_BUILDS=0` for scalar programs without arrays,
//! `GRAD_FUZZ_ORDER2=0` for either without `order = 2`).
fn main() {
    let n: usize = std::env::args().nth(1).map_or(20, |s| s.parse().unwrap());
    let seed: u64 = std::env::args().nth(2).map_or(1, |s| s.parse().unwrap());
    let tensor = std::env::args().nth(3).is_some_and(|s| s == "tensor");
    let order2 = std::env::var("GRAD_FUZZ_ORDER2").map_or(true, |s| s.trim() != "0");
    let p = if tensor {
        grad_fuzz::tensor_generator::generate(n, seed, order2)
    } else {
        let builds = std::env::var("GRAD_FUZZ_BUILDS").map_or(true, |s| s.trim() != "0");
        grad_fuzz::generator::generate_with(n, seed, builds, order2)
    };
    for q in &p {
        println!("{}", q.source);
    }
}
