//! `Display` and `Debug` for tensors, laid out as numpy prints arrays.
//!
//! `Display` is numpy's `str(a)`: `[[1. 2.]\n [3. 4.]]`, elements right-aligned to a common
//! width, integral values as `1.`, others with up to 8 decimals and trailing zeros trimmed,
//! and arrays of more than 1000 elements summarized with `...` (3 items at each edge).
//! `Debug` is numpy's `repr(a)` with the type: `tensor([[1., 2.],\n        [3., 4.]], dtype=f32)`.

use super::Tensor;
use crate::real::Real;
use core::fmt;

/// Arrays with more elements than this print summarized.
const THRESHOLD: usize = 1000;
/// Items printed at each edge of a summarized axis.
const EDGE: usize = 3;

/// One element as numpy prints it.
fn format_element<T: Real>(v: T) -> String {
    let x = v.to_f64();
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == x.trunc() && x.abs() < 1e16 {
        return format!("{x:.0}.");
    }
    if x.abs() >= 1e16 || x.abs() < 1e-4 {
        let s = format!("{x:.8e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0');
        let exp: i32 = exp.parse().unwrap_or(0);
        return format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    let s = format!("{x:.8}");
    s.trim_end_matches('0').to_string()
}

/// A cell split at its decimal point (`None` when it has none: `nan`, `inf`, exponents).
fn split_cell(cell: &str) -> (&str, Option<&str>) {
    match cell.split_once('.') {
        Some((int, frac)) if !frac.contains('e') => (int, Some(frac)),
        _ => (cell, None),
    }
}

struct Layout<'a, T: Real> {
    t: &'a Tensor<T>,
    /// Widths of the integer part and of the fractional part (numpy aligns on the point).
    int_width: usize,
    frac_width: usize,
    /// The width of every cell.
    width: usize,
    summarize: bool,
    sep: &'static str,
}

impl<'a, T: Real> Layout<'a, T> {
    fn new(t: &'a Tensor<T>, sep: &'static str) -> Self {
        let mut layout = Layout {
            t,
            int_width: 0,
            frac_width: 0,
            width: 0,
            summarize: t.len() > THRESHOLD,
            sep,
        };
        if t.ndim() > 0 {
            let mut shown = Vec::new();
            layout.collect(0, 0, &mut shown);
            for &i in &shown {
                let cell = format_element(t.as_slice()[i]);
                let (int, frac) = split_cell(&cell);
                layout.int_width = layout.int_width.max(int.len());
                layout.frac_width = layout.frac_width.max(frac.map_or(0, str::len));
                let w = if frac.is_some() { 0 } else { cell.len() };
                layout.width = layout.width.max(w);
            }
            if shown
                .iter()
                .any(|&i| split_cell(&format_element(t.as_slice()[i])).1.is_some())
            {
                layout.width = layout.width.max(layout.int_width + 1 + layout.frac_width);
            }
        }
        layout
    }

    /// A cell aligned on its decimal point.
    fn cell(&self, v: T) -> String {
        let cell = format_element(v);
        match split_cell(&cell) {
            (int, Some(frac)) => {
                let aligned = format!(
                    "{int:>iw$}.{frac:<fw$}",
                    iw = self.int_width,
                    fw = self.frac_width
                );
                format!("{aligned:>w$}", w = self.width)
            }
            (whole, None) => format!("{whole:>w$}", w = self.width),
        }
    }

    /// The indices printed along an axis of length `n` (`None` marks the `...`).
    fn indices(&self, n: usize) -> Vec<Option<usize>> {
        if self.summarize && n > 2 * EDGE {
            (0..EDGE)
                .map(Some)
                .chain([None])
                .chain((n - EDGE..n).map(Some))
                .collect()
        } else {
            (0..n).map(Some).collect()
        }
    }

    /// The flat indices of the printed elements.
    fn collect(&self, axis: usize, offset: usize, out: &mut Vec<usize>) {
        let shape = self.t.shape();
        let stride: usize = shape[axis + 1..].iter().product();
        for j in self.indices(shape[axis]).into_iter().flatten() {
            if axis + 1 == shape.len() {
                out.push(offset + j);
            } else {
                self.collect(axis + 1, offset + j * stride, out);
            }
        }
    }

    fn write(
        &self,
        f: &mut fmt::Formatter<'_>,
        axis: usize,
        offset: usize,
        indent: usize,
    ) -> fmt::Result {
        let shape = self.t.shape();
        let stride: usize = shape[axis + 1..].iter().product();
        let last = axis + 1 == shape.len();
        f.write_str("[")?;
        for (i, idx) in self.indices(shape[axis]).into_iter().enumerate() {
            if i > 0 {
                if last {
                    f.write_str(self.sep)?;
                } else {
                    f.write_str(self.sep.trim_end())?;
                    for _ in 0..shape.len() - axis - 1 {
                        writeln!(f)?;
                    }
                    write!(f, "{:indent$}", "", indent = indent + 1)?;
                }
            }
            match idx {
                None if last => f.write_str("...")?,
                None => f.write_str("...")?,
                Some(j) if last => f.write_str(&self.cell(self.t.as_slice()[offset + j]))?,
                Some(j) => self.write(f, axis + 1, offset + j * stride, indent + 1)?,
            }
        }
        f.write_str("]")
    }
}

impl<T: Real> fmt::Display for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ndim() == 0 {
            return f.write_str(&format_element(self.as_slice()[0]));
        }
        Layout::new(self, " ").write(f, 0, 0, 0)
    }
}

impl<T: Real> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dtype = core::any::type_name::<T>();
        f.write_str("tensor(")?;
        if self.ndim() == 0 {
            f.write_str(&format_element(self.as_slice()[0]))?;
        } else {
            // "tensor(" is 7 columns: nested rows align under the first "[".
            Layout::new(self, ", ").write(f, 0, 0, 7)?;
        }
        write!(f, ", dtype={dtype})")
    }
}
