//! `Tensor<T>` as a serde value: a struct `{"shape": [..], "data": [..]}`, the data in
//! row-major order, checked against the shape when read.

use super::Tensor;
use crate::real::Real;
use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

impl<T: Real + Serialize> Serialize for Tensor<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Tensor", 2)?;
        s.serialize_field("shape", self.shape())?;
        s.serialize_field("data", self.as_slice())?;
        s.end()
    }
}

/// What a serialized tensor holds, before the shape and data are checked against each other.
#[derive(Deserialize)]
#[serde(rename = "Tensor", deny_unknown_fields)]
struct Parts<T> {
    shape: Vec<usize>,
    data: Vec<T>,
}

/// Data whose length is not the product of the shape (or a shape whose element count
/// overflows) is an error of the deserializer, naming both.
impl<'de, T: Real + Deserialize<'de>> Deserialize<'de> for Tensor<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Parts { shape, data } = Parts::<T>::deserialize(deserializer)?;
        Tensor::from_vec(data, &shape).map_err(|e| D::Error::custom(format!("tensor: {e}")))
    }
}
