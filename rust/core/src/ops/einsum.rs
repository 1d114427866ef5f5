//! `torch.einsum`: the equation is parsed into one label per dimension; repeated labels
//! within an operand become a diagonal view, labels nobody needs later are summed early, and
//! operands are contracted left to right, each pair as one batched matrix product
//! (`[batch, left, contracted] @ [batch, contracted, right]`) so large einsums run on gemm.

use crate::bail;
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::check_same_device;
use crate::ops::matmul::gemm_into;
use crate::ops::shape::{permute, reshape};
use crate::scalar::Scalar;
use crate::tensor::Tensor;

/// Labels `A-Z` are 0..26, `a-z` 26..52 (torch's and NumPy's implicit output order);
/// ellipsis dims get 52, 53, ... counted from the left of the widest ellipsis.
const ELLIPSIS_BASE: usize = 52;

fn label_of(c: char) -> Option<usize> {
    match c {
        'A'..='Z' => Some(c as usize - 'A' as usize),
        'a'..='z' => Some(c as usize - 'a' as usize + 26),
        _ => None,
    }
}

fn label_char(l: usize) -> String {
    match l {
        0..=25 => ((b'A' + l as u8) as char).to_string(),
        26..=51 => ((b'a' + (l - 26) as u8) as char).to_string(),
        _ => "...".to_string(),
    }
}

/// One term of the equation: its letters, and where the ellipsis sits (index into letters).
struct Subscripts {
    letters: Vec<usize>,
    ellipsis: Option<usize>,
}

fn parse_term(term: &str, what: &str, start: usize) -> Result<Subscripts> {
    let mut letters = Vec::new();
    let mut ellipsis = None;
    let chars: Vec<char> = term.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '.' {
            if ellipsis.is_some() {
                bail!(
                    Runtime,
                    "einsum(): found '.' for {what} for which an ellipsis was already found"
                );
            }
            if chars.get(i + 1) != Some(&'.') || chars.get(i + 2) != Some(&'.') {
                bail!(
                    Runtime,
                    "einsum(): found '.' for {what} that is not part of any ellipsis"
                );
            }
            ellipsis = Some(letters.len());
            i += 3;
            continue;
        }
        match label_of(c) {
            Some(l) => letters.push(l),
            None => bail!(
                Runtime,
                "einsum(): invalid subscript given at index {} in the equation string, subscripts must be in [a-zA-Z]",
                start + i
            ),
        }
        i += 1;
    }
    Ok(Subscripts { letters, ellipsis })
}

/// An operand (or intermediate result) with exactly one distinct label per dimension.
#[derive(Clone)]
struct Term {
    t: Tensor,
    labels: Vec<usize>,
}

impl Term {
    fn size(&self, l: usize) -> Option<usize> {
        self.labels
            .iter()
            .position(|&x| x == l)
            .map(|i| self.t.shape()[i])
    }
}

/// Sums `t` over the labels in `drop`, keeping the others in their order.
fn sum_labels(term: Term, drop: &[usize]) -> Result<Term> {
    let (keep_i, drop_i): (Vec<usize>, Vec<usize>) =
        (0..term.labels.len()).partition(|&i| !drop.contains(&term.labels[i]));
    if drop_i.is_empty() {
        return Ok(term);
    }
    let shape = term.t.shape();
    let kept_shape: Vec<usize> = keep_i.iter().map(|&i| shape[i]).collect();
    let rows: usize = kept_shape.iter().product();
    let summed: usize = drop_i.iter().map(|&i| shape[i]).product();
    let perm: Vec<i64> = keep_i.iter().chain(&drop_i).map(|&i| i as i64).collect();
    let mat = reshape(&permute(&term.t, &perm)?, &[rows as i64, summed as i64])?;
    let dt = term.t.dtype();
    // A reduction is a matrix-vector product with ones: one kernel for every dtype.
    let ones = Tensor::full(&[summed], Scalar::Int(1), dt, term.t.device())?;
    let ones = ones.view_with(Layout {
        shape: vec![summed, 1],
        strides: vec![1, 0],
        offset: 0,
    })?;
    let out = Tensor::empty(&[rows, 1], dt, term.t.device())?;
    gemm_into(&out, &mat, &ones, Scalar::Int(1), None, "sum")?;
    let kept_i64: Vec<i64> = kept_shape.iter().map(|&s| s as i64).collect();
    let labels = keep_i.iter().map(|&i| term.labels[i]).collect();
    Ok(Term {
        t: reshape(&out, &kept_i64)?,
        labels,
    })
}

/// `term` with its dims reordered to `order` and sizes broadcast to `sizes` (stride 0 where
/// the term has size 1).
fn arrange(term: &Term, order: &[usize], sizes: &[usize]) -> Result<Tensor> {
    let mut shape = Vec::with_capacity(order.len());
    let mut strides = Vec::with_capacity(order.len());
    for (&l, &s) in order.iter().zip(sizes) {
        let i = term
            .labels
            .iter()
            .position(|&x| x == l)
            .unwrap_or(usize::MAX);
        let (own, st) = match i {
            usize::MAX => (1, 0),
            _ => (term.t.shape()[i], term.t.strides()[i]),
        };
        shape.push(s);
        strides.push(if own == s { st } else { 0 });
    }
    term.t.view_with(Layout {
        shape,
        strides,
        offset: term.t.offset(),
    })
}

/// Contracts two terms over the labels they share that no later operand or the output needs.
fn contract(a: Term, b: Term, needed: &[usize]) -> Result<Term> {
    let in_a = |l: &usize| a.labels.contains(l);
    let in_b = |l: &usize| b.labels.contains(l);
    let batch: Vec<usize> = a
        .labels
        .iter()
        .copied()
        .filter(|l| in_b(l) && needed.contains(l))
        .collect();
    let summed: Vec<usize> = a
        .labels
        .iter()
        .copied()
        .filter(|l| in_b(l) && !needed.contains(l))
        .collect();
    let left: Vec<usize> = a.labels.iter().copied().filter(|l| !in_b(l)).collect();
    let right: Vec<usize> = b.labels.iter().copied().filter(|l| !in_a(l)).collect();
    let size = |l: &usize| a.size(*l).unwrap_or(1).max(b.size(*l).unwrap_or(1));
    let bs: Vec<usize> = batch.iter().map(size).collect();
    let (ls, ss, rs): (Vec<usize>, Vec<usize>, Vec<usize>) = (
        left.iter().map(size).collect(),
        summed.iter().map(size).collect(),
        right.iter().map(size).collect(),
    );
    let (m, k, n) = (
        ls.iter().product::<usize>(),
        ss.iter().product::<usize>(),
        rs.iter().product::<usize>(),
    );
    let cat = |parts: &[&[usize]]| parts.concat();
    let av = arrange(&a, &cat(&[&batch, &left, &summed]), &cat(&[&bs, &ls, &ss]))?;
    let bv = arrange(&b, &cat(&[&batch, &summed, &right]), &cat(&[&bs, &ss, &rs]))?;
    let to_i64 = |v: Vec<usize>| v.into_iter().map(|s| s as i64).collect::<Vec<i64>>();
    let am = reshape(&av, &to_i64(cat(&[&bs, &[m, k]])))?;
    let bm = reshape(&bv, &to_i64(cat(&[&bs, &[k, n]])))?;
    if a.t.dtype() != b.t.dtype() {
        bail!(
            Runtime,
            "expected m1 and m2 to have the same dtype, but got: {} != {}",
            crate::ops::matmul::cpp_type_name(a.t.dtype()),
            crate::ops::matmul::cpp_type_name(b.t.dtype())
        );
    }
    let out = Tensor::empty(&cat(&[&bs, &[m, n]]), a.t.dtype(), a.t.device())?;
    gemm_into(&out, &am, &bm, Scalar::Int(1), None, "bmm")?;
    let t = reshape(&out, &to_i64(cat(&[&bs, &ls, &rs])))?;
    Ok(Term {
        t,
        labels: cat(&[&batch, &left, &right]),
    })
}

/// `torch.einsum(equation, *operands)`.
pub fn einsum(equation: &str, operands: &[Tensor]) -> Result<Tensor> {
    check_same_device("einsum", &operands.iter().collect::<Vec<_>>())?;
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.find("->") {
        Some(p) => (&eq[..p], Some(&eq[p + 2..])),
        None => (&eq[..], None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if operands.is_empty() {
        bail!(Runtime, "einsum(): must provide at least one operand");
    }
    if terms.len() > operands.len() {
        bail!(
            Runtime,
            "einsum(): fewer operands were provided than specified in the equation"
        );
    }
    if terms.len() < operands.len() {
        bail!(
            Runtime,
            "einsum(): more operands were provided than specified in the equation"
        );
    }
    let mut subs = Vec::with_capacity(terms.len());
    let mut start = 0;
    for (i, term) in terms.iter().enumerate() {
        subs.push(parse_term(term, &format!("operand {i}"), start)?);
        start += term.len() + 1;
    }
    // Ellipsis dims of each operand, aligned to the right of the widest one.
    let mut ell_dims = Vec::with_capacity(subs.len());
    for (i, (s, t)) in subs.iter().zip(operands).enumerate() {
        let (nl, nd) = (s.letters.len(), t.ndim());
        match s.ellipsis {
            Some(_) if nl > nd => bail!(
                Runtime,
                "einsum(): the number of subscripts in the equation ({nl}) is more than the number of dimensions ({nd}) for operand {i}"
            ),
            None if nl != nd => bail!(
                Runtime,
                "einsum(): the number of subscripts in the equation ({nl}) does not match the number of dimensions ({nd}) for operand {i} and no ellipsis was given"
            ),
            _ => ell_dims.push(nd - nl),
        }
    }
    let ell_max = ell_dims.iter().copied().max().unwrap_or(0);
    let ell_labels: Vec<usize> = (0..ell_max).map(|j| ELLIPSIS_BASE + j).collect();

    // Per-operand label lists, then diagonals for repeated labels.
    let mut ops = Vec::with_capacity(operands.len());
    let mut counts = [0usize; ELLIPSIS_BASE];
    for (i, ((s, t), &e)) in subs.iter().zip(operands).zip(&ell_dims).enumerate() {
        let mut dims: Vec<usize> = s.letters.clone();
        if let Some(p) = s.ellipsis {
            let ell = (ell_max - e..ell_max).map(|j| ELLIPSIS_BASE + j);
            dims.splice(p..p, ell);
        }
        let mut labels: Vec<usize> = Vec::new();
        let mut shape: Vec<usize> = Vec::new();
        let mut strides: Vec<isize> = Vec::new();
        for (d, &l) in dims.iter().enumerate() {
            let (sz, st) = (t.shape()[d], t.strides()[d]);
            if l < ELLIPSIS_BASE {
                counts[l] += 1;
            }
            match labels.iter().position(|&x| x == l) {
                Some(j) => {
                    if shape[j] != sz {
                        bail!(
                            Runtime,
                            "einsum(): subscript {} is repeated for operand {i} but the sizes don't match, {} != {sz}",
                            label_char(l),
                            shape[j]
                        );
                    }
                    strides[j] += st;
                }
                None => {
                    labels.push(l);
                    shape.push(sz);
                    strides.push(st);
                }
            }
        }
        let view = t.view_with(Layout {
            shape,
            strides,
            offset: t.offset(),
        })?;
        ops.push(Term { t: view, labels });
    }
    // Sizes must agree across operands, except that size 1 broadcasts.
    let mut sizes = vec![1usize; ELLIPSIS_BASE + ell_max];
    for (i, op) in ops.iter().enumerate() {
        for (&l, &s) in op.labels.iter().zip(op.t.shape()) {
            if s != 1 {
                if sizes[l] != 1 && sizes[l] != s {
                    bail!(
                        Runtime,
                        "einsum(): operands do not broadcast with remapped shapes (original->remapped): \
                         subscript {} has size {} but operand {i} has size {s}",
                        label_char(l),
                        sizes[l]
                    );
                }
                sizes[l] = s;
            }
        }
    }

    let output: Vec<usize> = match rhs {
        Some(r) => {
            let s = parse_term(r, "the output", lhs.len() + 2)?;
            let mut out = s.letters.clone();
            for (j, &l) in s.letters.iter().enumerate() {
                if counts[l] == 0 {
                    bail!(
                        Runtime,
                        "einsum(): output subscript {} does not appear in the equation for any input operand",
                        label_char(l)
                    );
                }
                if s.letters[..j].contains(&l) {
                    bail!(
                        Runtime,
                        "einsum(): output subscript {} appears more than once in the output",
                        label_char(l)
                    );
                }
            }
            if let Some(p) = s.ellipsis {
                out.splice(p..p, ell_labels.iter().copied());
            }
            out
        }
        None => ell_labels
            .iter()
            .copied()
            .chain((0..ELLIPSIS_BASE).filter(|&l| counts[l] == 1))
            .collect(),
    };

    // Left-to-right contraction; labels needed by neither the rest nor the output are summed
    // as soon as they occur in one operand only.
    let needed_after = |i: usize| -> Vec<usize> {
        let mut v = output.clone();
        for op in &ops[i + 1..] {
            v.extend(op.labels.iter().copied());
        }
        v
    };
    let lone = |term: &Term, other: Option<&Term>, needed: &[usize]| -> Vec<usize> {
        term.labels
            .iter()
            .copied()
            .filter(|l| !needed.contains(l) && !other.is_some_and(|o| o.labels.contains(l)))
            .collect()
    };
    let needed0 = needed_after(0);
    let first = ops[0].clone();
    let mut acc = if ops.len() == 1 {
        let drop = lone(&first, None, &needed0);
        sum_labels(first, &drop)?
    } else {
        first
    };
    for (i, b) in ops.iter().enumerate().skip(1) {
        let needed = needed_after(i);
        let b = b.clone();
        let drop_a = lone(&acc, Some(&b), &needed);
        let drop_b = lone(&b, Some(&acc), &needed);
        let a = sum_labels(acc, &drop_a)?;
        let b = sum_labels(b, &drop_b)?;
        acc = contract(a, b, &needed)?;
    }
    // Into output order, broadcasting any size-1 label to its einsum-wide size.
    let out_sizes: Vec<usize> = output.iter().map(|&l| sizes[l]).collect();
    let res = arrange(&acc, &output, &out_sizes)?;
    let in_order = acc.labels == output && acc.t.shape() == out_sizes.as_slice();
    Ok(if in_order { acc.t } else { res })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(shape: &[usize]) -> Tensor {
        let n = shape.iter().product::<usize>();
        Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), shape).unwrap()
    }

    #[test]
    fn basic_equations() {
        let a = ramp(&[3, 3]);
        assert_eq!(
            einsum("ii", &[a.clone()]).unwrap().to_vec::<i64>(),
            vec![12]
        );
        assert_eq!(
            einsum("ii->i", &[a.clone()]).unwrap().to_vec::<i64>(),
            vec![0, 4, 8]
        );
        assert_eq!(
            einsum("ij->j", &[a.clone()]).unwrap().to_vec::<i64>(),
            vec![9, 12, 15]
        );
        let b = ramp(&[2, 3, 4]);
        let c = ramp(&[2, 4, 5]);
        assert_eq!(
            einsum("bij,bjk->bik", &[b.clone(), c.clone()])
                .unwrap()
                .shape(),
            &[2, 3, 5]
        );
        assert_eq!(einsum("...ij,...jk", &[b, c]).unwrap().shape(), &[2, 3, 5]);
        assert!(einsum("ij,jk", &[a.clone()]).is_err());
        assert!(einsum("ijk", &[a]).is_err());
    }
}
