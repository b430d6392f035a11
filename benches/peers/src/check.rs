//! The agreement check: a system's value and gradient against grad's, as the manifest
//! holds them (the value, the first entries and the sum of each gradient).

/// What one gradient call of a system returned: the value and each gradient in `wrt`
/// order, flattened in C order.
pub struct Computed {
    pub value: f64,
    pub grads: Vec<Vec<f64>>,
}

/// A value and gradient as the manifest keeps them: up to the first four entries and the
/// sum of each gradient.
pub struct Summary {
    pub value: f64,
    pub firsts: Vec<Vec<f64>>,
    pub sums: Vec<f64>,
}

/// How close two results must be: `|a - b| <= TOLERANCE * max(1, |b|)`. Different
/// summation orders in f64 stay far inside this; a wrong derivative does not.
pub const TOLERANCE: f64 = 1e-8;

impl Computed {
    pub fn new(value: f64, grads: Vec<Vec<f64>>) -> Self {
        Self { value, grads }
    }

    pub fn summary(&self) -> Summary {
        Summary {
            value: self.value,
            firsts: self
                .grads
                .iter()
                .map(|g| g[..g.len().min(4)].to_vec())
                .collect(),
            sums: self.grads.iter().map(|g| g.iter().sum()).collect(),
        }
    }
}

/// The error of `got` relative to `want`, scaled as in [`TOLERANCE`].
fn rel_err(got: f64, want: f64) -> f64 {
    let e = (got - want).abs() / want.abs().max(1.0);
    if e.is_nan() { f64::INFINITY } else { e }
}

/// `Ok(max relative error)` if every component agrees, else `Err(detail)` naming the
/// first component that does not and both values.
pub fn check(got: &Computed, want: &Summary, wrt: &[String]) -> Result<f64, String> {
    let got = got.summary();
    if got.firsts.len() != want.firsts.len() {
        return Err(format!(
            "{} gradients, expected {}",
            got.firsts.len(),
            want.firsts.len()
        ));
    }
    let mut pairs = vec![("value".to_string(), got.value, want.value)];
    for (i, name) in wrt.iter().enumerate() {
        if got.firsts[i].len() != want.firsts[i].len() {
            return Err(format!("d{name} has a different size"));
        }
        for (j, (g, w)) in got.firsts[i].iter().zip(&want.firsts[i]).enumerate() {
            pairs.push((format!("d{name}[{j}]"), *g, *w));
        }
        pairs.push((format!("sum d{name}"), got.sums[i], want.sums[i]));
    }
    let mut worst: f64 = 0.0;
    for (what, g, w) in pairs {
        let e = rel_err(g, w);
        if e > TOLERANCE {
            return Err(format!("{what} = {g:e}, grad has {w:e}"));
        }
        worst = worst.max(e);
    }
    Ok(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_entry_is_named_with_both_values() {
        let want = Computed::new(24.2, vec![vec![-215.6], vec![-88.0]]).summary();
        let wrt = ["x".to_string(), "y".to_string()];
        let close = Computed::new(24.2 + 1e-12, vec![vec![-215.6], vec![-88.0]]);
        assert!(check(&close, &want, &wrt).is_ok());
        let wrong = Computed::new(24.2, vec![vec![-215.6], vec![-44.0]]);
        let detail = check(&wrong, &want, &wrt).unwrap_err();
        assert!(detail.starts_with("dy[0] = -4.4e1"), "{detail}");
    }
}
