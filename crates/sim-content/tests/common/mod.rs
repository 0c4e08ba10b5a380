//! Helpers shared by the integration tests: an independent decoder and
//! picture metrics.

#![allow(dead_code)]

use openh264::decoder::Decoder;
use openh264::formats::YUVSource;

/// A decoded picture: size and tightly packed luma.
pub struct Decoded {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Luma, `width * height` bytes.
    pub luma: Vec<u8>,
}

/// Decodes access units one by one with OpenH264's decoder; returns one
/// picture per access unit that produced one.
pub fn decode_all(aus: &[Vec<u8>]) -> Vec<Decoded> {
    let mut dec = Decoder::new().expect("decoder");
    let mut out = Vec::new();
    for au in aus {
        if let Some(pic) = dec.decode(au).expect("decodable access unit") {
            let (w, h) = pic.dimensions();
            let stride = pic.strides().0;
            let mut luma = Vec::with_capacity(w * h);
            for row in 0..h {
                luma.extend_from_slice(&pic.y()[row * stride..row * stride + w]);
            }
            out.push(Decoded {
                width: w,
                height: h,
                luma,
            });
        }
    }
    out
}

/// Luma PSNR in dB between two equally sized planes.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}
