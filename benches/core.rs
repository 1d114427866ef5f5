//! Criterion benches of the core: add, sum, matmul and a strided copy.

use criterion::{criterion_group, criterion_main, Criterion};
use ferrotorch_core::{ops, Tensor};
use std::hint::black_box;

fn ramp(n: usize, shape: &[usize]) -> Tensor {
    Tensor::from_vec(
        (0..n).map(|i| (i % 97) as f32 * 0.01).collect::<Vec<f32>>(),
        shape,
    )
    .expect("bench input")
}

fn bench_add(c: &mut Criterion) {
    let a = ramp(1 << 20, &[1 << 20]);
    let b = ramp(1 << 20, &[1 << 20]);
    c.bench_function("add f32 1M", |bch| {
        bch.iter(|| ops::binary::add(black_box(&a), black_box(&b)))
    });
}

fn bench_sum(c: &mut Criterion) {
    let a = ramp(1 << 22, &[1 << 22]);
    c.bench_function("sum f32 4M", |bch| {
        bch.iter(|| ops::reduce::sum(black_box(&a), None, false, None))
    });
}

/// Copy of a transposed 2048x2048 view into contiguous memory (the `contiguous()` path).
fn bench_strided_copy(c: &mut Criterion) {
    let n = 2048;
    let t = ops::shape::transpose(&ramp(n * n, &[n, n]), 0, 1).expect("transpose");
    c.bench_function("contiguous copy of f32 2048x2048 transpose", |bch| {
        bch.iter(|| black_box(&t).contiguous())
    });
}

fn bench_matmul(c: &mut Criterion) {
    for n in [256usize, 1024] {
        let a = ramp(n * n, &[n, n]);
        let b = ramp(n * n, &[n, n]);
        let mut g = c.benchmark_group("matmul f32");
        // Few samples for the large size: one product takes milliseconds.
        g.sample_size(if n >= 1024 { 10 } else { 50 });
        g.throughput(criterion::Throughput::Elements((2 * n * n * n) as u64));
        g.bench_function(format!("{n}x{n}"), |bch| {
            bch.iter(|| ops::matmul::matmul(black_box(&a), black_box(&b)))
        });
        g.finish();
    }
}

criterion_group!(
    benches,
    bench_add,
    bench_sum,
    bench_strided_copy,
    bench_matmul
);
criterion_main!(benches);
