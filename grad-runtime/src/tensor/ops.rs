//! The arithmetic operators on tensors, from one table: tensor ⊗ tensor with numpy
//! broadcasting and tensor ⊗ scalar in both orders, on owned values and references.
//!
//! An owned left operand whose shape is the result's is updated in place.

use super::Tensor;
use super::shape::{broadcast_or_panic, broadcast_zip, zip_assign};
use crate::kernels;
use crate::real::Real;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

macro_rules! tensor_ops {
    ($($Op:ident $op:ident $OpAssign:ident $op_assign:ident $name:literal: |$a:ident, $b:ident| $f:expr;)*) => {$(
        impl<T: Real> $Op<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $op(self, rhs: &Tensor<T>) -> Tensor<T> {
                broadcast_zip($name, self, rhs, |$a: T, $b: T| $f)
            }
        }
        impl<T: Real> $Op<Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $op(self, rhs: Tensor<T>) -> Tensor<T> {
                self.$op(&rhs)
            }
        }
        impl<T: Real> $Op<&Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            fn $op(mut self, rhs: &Tensor<T>) -> Tensor<T> {
                if broadcast_or_panic($name, self.shape(), rhs.shape()).as_slice() == self.shape() {
                    zip_assign($name, &mut self, rhs, |$a: T, $b: T| $f);
                    self
                } else {
                    (&self).$op(rhs)
                }
            }
        }
        impl<T: Real> $Op<Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            fn $op(self, rhs: Tensor<T>) -> Tensor<T> {
                self.$op(&rhs)
            }
        }
        impl<T: Real> $Op<T> for Tensor<T> {
            type Output = Tensor<T>;
            fn $op(mut self, $b: T) -> Tensor<T> {
                kernels::map1_in_place(self.as_mut_slice(), |$a: T| $f);
                self
            }
        }
        impl<T: Real> $Op<T> for &Tensor<T> {
            type Output = Tensor<T>;
            fn $op(self, $b: T) -> Tensor<T> {
                let out = kernels::map1_new(self.as_slice(), |$a: T| $f);
                Tensor::from_parts(out, self.dims_owned())
            }
        }
        impl<T: Real> $OpAssign<&Tensor<T>> for Tensor<T> {
            fn $op_assign(&mut self, rhs: &Tensor<T>) {
                zip_assign($name, self, rhs, |$a: T, $b: T| $f);
            }
        }
        impl<T: Real> $OpAssign<Tensor<T>> for Tensor<T> {
            fn $op_assign(&mut self, rhs: Tensor<T>) {
                zip_assign($name, self, &rhs, |$a: T, $b: T| $f);
            }
        }
        impl<T: Real> $OpAssign<T> for Tensor<T> {
            fn $op_assign(&mut self, $b: T) {
                kernels::map1_in_place(self.as_mut_slice(), |$a: T| $f);
            }
        }
        tensor_ops!(@scalar_left f32 f64; $Op $op: |$a, $b| $f);
    )*};
    (@scalar_left $($t:ident)*; $Op:ident $op:ident: |$a:ident, $b:ident| $f:expr) => {$(
        impl $Op<Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn $op(self, mut rhs: Tensor<$t>) -> Tensor<$t> {
                let $a = self;
                kernels::map1_in_place(rhs.as_mut_slice(), |$b: $t| $f);
                rhs
            }
        }
        impl $Op<&Tensor<$t>> for $t {
            type Output = Tensor<$t>;
            fn $op(self, rhs: &Tensor<$t>) -> Tensor<$t> {
                let $a = self;
                let out = kernels::map1_new(rhs.as_slice(), |$b: $t| $f);
                Tensor::from_parts(out, rhs.dims_owned())
            }
        }
    )*};
}

tensor_ops! {
    Add add AddAssign add_assign "add": |a, b| a + b;
    Sub sub SubAssign sub_assign "sub": |a, b| a - b;
    Mul mul MulAssign mul_assign "mul": |a, b| a * b;
    Div div DivAssign div_assign "div": |a, b| a / b;
}

impl<T: Real> Neg for Tensor<T> {
    type Output = Tensor<T>;
    fn neg(mut self) -> Tensor<T> {
        kernels::map1_in_place(self.as_mut_slice(), |v: T| -v);
        self
    }
}

impl<T: Real> Neg for &Tensor<T> {
    type Output = Tensor<T>;
    fn neg(self) -> Tensor<T> {
        -(self.clone())
    }
}
