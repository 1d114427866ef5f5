//! Where a tensor's memory lives.

use crate::error::{Error, Result};
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Device {
    Cpu,
    Cuda(usize),
}

impl Device {
    /// Parses `"cpu"`, `"cuda"`, `"cuda:1"` (and an explicit index given separately).
    pub fn parse(spec: &str, index: Option<usize>) -> Result<Device> {
        let (kind, idx) = match spec.split_once(':') {
            Some((k, i)) => {
                let i = i
                    .parse::<usize>()
                    .map_err(|_| Error::runtime(format!("Invalid device string: '{spec}'")))?;
                if index.is_some() {
                    return Err(Error::runtime(format!(
                        "device(): the device string '{spec}' already has an index"
                    )));
                }
                (k, Some(i))
            }
            None => (spec, index),
        };
        match kind {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(idx.unwrap_or(0))),
            _ => Err(Error::runtime(format!(
                "Expected one of cpu, cuda device type at start of device string: {spec}"
            ))),
        }
    }

    pub fn type_name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda(_) => "cuda",
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}
