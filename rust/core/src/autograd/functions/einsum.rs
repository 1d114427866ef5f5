//! `einsum` and its rule: the gradient of an operand is an einsum of the output gradient with
//! the other operands, producing that operand's labels. Three things einsum itself cannot
//! express are applied afterwards: labels that were summed away inside the operand alone are
//! broadcast back (expand), labels where the operand had size 1 but the product a larger size
//! are summed, and repeated labels (diagonals) scatter the result onto the diagonal.

use super::reduce::sum_to;
use super::shape::{expand_to, reshape};
use crate::autograd::node::{BackwardArgs, Save};
use crate::autograd::record::{needs_grad, record1};
use crate::autograd::view::strided_scatter;
use crate::error::{Error, Result};
use crate::layout::{contiguous_strides, Layout};
use crate::ops::einsum as raw;
use crate::tensor::Tensor;

/// Labels `A-Z` are 0..26 and `a-z` 26..52, as in the kernel; ellipsis dims get 52, 53, ...
/// counted from the left of the widest ellipsis.
const ELLIPSIS_BASE: usize = 52;

fn label_of(c: char) -> Option<usize> {
    match c {
        'A'..='Z' => Some(c as usize - 'A' as usize),
        'a'..='z' => Some(c as usize - 'a' as usize + 26),
        _ => None,
    }
}

fn letter(l: usize) -> char {
    if l < 26 {
        (b'A' + l as u8) as char
    } else {
        (b'a' + (l - 26) as u8) as char
    }
}

/// One term's letters and where its ellipsis sits.
fn parse_term(term: &str) -> Result<(Vec<usize>, Option<usize>)> {
    let mut letters = Vec::new();
    let mut ellipsis = None;
    let mut rest = term;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("...") {
            ellipsis = Some(letters.len());
            rest = r;
            continue;
        }
        letters.push(label_of(c).ok_or_else(|| {
            Error::runtime(format!("einsum(): invalid subscript '{c}' in the equation"))
        })?);
        rest = &rest[c.len_utf8()..];
    }
    Ok((letters, ellipsis))
}

/// An equation resolved against its operands' ranks: one label per dim of each operand, and
/// the output's labels.
struct Labels {
    inputs: Vec<Vec<usize>>,
    output: Vec<usize>,
}

/// Parses an equation the kernel has already accepted, with the kernel's rules (ellipsis dims
/// aligned right; implicit output = ellipsis, then labels seen once, in label order).
fn resolve(equation: &str, ranks: &[usize]) -> Result<Labels> {
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match eq.find("->") {
        Some(p) => (&eq[..p], Some(&eq[p + 2..])),
        None => (&eq[..], None),
    };
    let terms = lhs.split(',').map(parse_term).collect::<Result<Vec<_>>>()?;
    let ell = |(letters, _): &(Vec<usize>, Option<usize>), nd: usize| nd - letters.len();
    let ell_max = terms
        .iter()
        .zip(ranks)
        .map(|(t, &nd)| ell(t, nd))
        .max()
        .unwrap_or(0);
    let mut counts = [0usize; ELLIPSIS_BASE];
    let mut inputs = Vec::with_capacity(terms.len());
    for (t, &nd) in terms.iter().zip(ranks) {
        let (letters, pos) = t;
        for &l in letters {
            counts[l] += 1;
        }
        let mut dims = letters.clone();
        if let Some(p) = *pos {
            let e = ell(t, nd);
            dims.splice(p..p, (ell_max - e..ell_max).map(|j| ELLIPSIS_BASE + j));
        }
        inputs.push(dims);
    }
    let ell_labels = (0..ell_max).map(|j| ELLIPSIS_BASE + j);
    let output = match rhs {
        Some(r) => {
            let (mut out, pos) = parse_term(r)?;
            if let Some(p) = pos {
                out.splice(p..p, ell_labels);
            }
            out
        }
        None => ell_labels
            .chain((0..ELLIPSIS_BASE).filter(|&l| counts[l] == 1))
            .collect(),
    };
    Ok(Labels { inputs, output })
}

/// `einsum(equation, operands)`.
pub fn einsum(equation: &str, operands: &[Tensor]) -> Result<Tensor> {
    let mut out = raw::einsum(equation, operands)?;
    let refs: Vec<&Tensor> = operands.iter().collect();
    if !needs_grad(&refs) {
        return Ok(out);
    }
    // A pure relabelling (`ij->ji`, `ii->i`) comes back as a view of the operand; the result
    // of a recorded einsum is a tensor of its own.
    if operands.iter().any(|o| out.shares_storage(o)) {
        out = out.copy_to_new(out.dtype())?;
    }
    let ranks: Vec<usize> = operands.iter().map(|o| o.ndim()).collect();
    let labels = resolve(equation, &ranks)?;
    // Operand j is read by the gradient of every other operand.
    let saves = (0..operands.len())
        .map(|j| {
            let wanted = operands
                .iter()
                .enumerate()
                .any(|(i, o)| i != j && o.requires_grad());
            Save::Tensor(if wanted {
                operands[j].clone()
            } else {
                Tensor::phantom(&[], operands[j].dtype())
            })
        })
        .collect();
    let n = operands.len();
    Ok(record1(
        "EinsumBackward0",
        &refs,
        out,
        saves,
        move |x: &BackwardArgs| {
            let g = x.grad(0)?;
            let mut grads = Vec::with_capacity(n);
            for i in 0..n {
                if !x.needs(i) {
                    grads.push(None);
                    continue;
                }
                let others = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| x.saved(j))
                    .collect::<Result<Vec<_>>>()?;
                let shape = &x.node.inputs[i].shape;
                grads.push(Some(operand_grad(&labels, i, shape, &g, &others)?));
            }
            Ok(grads)
        },
    ))
}

/// The gradient of operand `i` (shape `shape`) given the output gradient `g` and the other
/// operands in order.
fn operand_grad(
    labels: &Labels,
    i: usize,
    shape: &[usize],
    g: &Tensor,
    others: &[Tensor],
) -> Result<Tensor> {
    let own = &labels.inputs[i];
    let other_terms: Vec<&Vec<usize>> = (0..labels.inputs.len())
        .filter(|&j| j != i)
        .map(|j| &labels.inputs[j])
        .collect();
    // The operand's distinct labels (first occurrence order) and their sizes in it.
    let mut uniq: Vec<usize> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    for (d, &l) in own.iter().enumerate() {
        if !uniq.contains(&l) {
            uniq.push(l);
            sizes.push(shape[d]);
        }
    }
    let present =
        |l: &usize| labels.output.contains(l) || other_terms.iter().any(|t| t.contains(l));
    let kept: Vec<usize> = uniq.iter().copied().filter(present).collect();

    // Letters for the gradient's equation: ellipsis dims take letters nobody uses.
    let mut used = [false; ELLIPSIS_BASE];
    let all = labels.inputs.iter().flatten().chain(&labels.output);
    for &l in all.clone() {
        if l < ELLIPSIS_BASE {
            used[l] = true;
        }
    }
    let mut free = (0..ELLIPSIS_BASE).filter(|&l| !used[l]);
    let mut spelled: Vec<(usize, char)> = Vec::new();
    for &l in all {
        if spelled.iter().any(|&(x, _)| x == l) {
            continue;
        }
        let c = if l < ELLIPSIS_BASE {
            letter(l)
        } else {
            letter(free.next().ok_or_else(|| {
                Error::not_implemented(
                    "einsum backward: the equation uses too many distinct subscripts (letters \
                     and ellipsis dims together exceed 52)",
                )
            })?)
        };
        spelled.push((l, c));
    }
    let spell = |ls: &[usize]| -> String {
        ls.iter()
            .map(|l| {
                spelled
                    .iter()
                    .find(|(x, _)| x == l)
                    .map_or('?', |&(_, c)| c)
            })
            .collect()
    };
    let mut eq = spell(&labels.output);
    for t in &other_terms {
        eq.push(',');
        eq.push_str(&spell(t));
    }
    eq.push_str("->");
    eq.push_str(&spell(&kept));
    let operands: Vec<Tensor> = std::iter::once(g.clone())
        .chain(others.iter().cloned())
        .collect();
    let mut r = einsum(&eq, &operands)?;

    // Labels where the operand had size 1 but the product ran wider: sum them.
    let size_of = |l: usize| sizes[uniq.iter().position(|&u| u == l).unwrap_or(0)];
    let narrowed: Vec<usize> = kept
        .iter()
        .zip(r.shape())
        .map(|(&l, &s)| if size_of(l) == 1 { 1 } else { s })
        .collect();
    r = sum_to(&r, &narrowed)?;
    // Labels summed away inside the operand alone (and size-1 product dims): broadcast.
    if kept.len() != uniq.len() {
        let with_ones: Vec<i64> = uniq
            .iter()
            .map(|l| {
                kept.iter()
                    .position(|k| k == l)
                    .map_or(1, |p| narrowed[p] as i64)
            })
            .collect();
        r = reshape(&r, &with_ones)?;
    }
    r = expand_to(&r, &sizes)?;
    // Repeated labels: the gradient lives on the diagonal.
    if uniq.len() == own.len() {
        return Ok(r);
    }
    let st = contiguous_strides(shape);
    let strides: Vec<isize> = uniq
        .iter()
        .map(|u| {
            (0..own.len())
                .filter(|&d| own[d] == *u)
                .map(|d| st[d])
                .sum()
        })
        .collect();
    let region = Layout {
        shape: sizes,
        strides,
        offset: 0,
    };
    strided_scatter(&r, shape, &region)
}
