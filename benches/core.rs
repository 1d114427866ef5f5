//! Criterion benches of the core: add, sum, matmul and a strided copy.

use criterion::{criterion_group, criterion_main, Criterion};
use ferrotorch_core::{ops, Tensor};
use std::hint::black_box;

fn ramp(n: usize, shape: &[usize]) -> Tensor {
    Tensor::from_vec((0..n).map(|i| (i % 97) as f32 * 0.01).collect::<Vec<f32>>(), shape)
        .expect("bench input")
}

fn bench_add(c: &mut Criterion) {
    let a = ramp(1 << 20, &[1 << 20]);
    let b = ramp(1 << 20, &[1 << 20]);
    c.bench_function("add f32 1M", |bch| bch.iter(|| ops::binary::add(black_box(&a), black_box(&b))));
}

criterion_group!(benches, bench_add);
criterion_main!(benches);
