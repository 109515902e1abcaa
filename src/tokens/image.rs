//! Images in requests: their dimensions, read from the few header bytes of
//! inline data, and what each provider bills for them.
//!
//! Dimensions come from the image's header (PNG `IHDR`, JPEG `SOFn`, GIF
//! logical screen, WebP `VP8 `/`VP8L`/`VP8X`); inline base64 data is decoded
//! only as far as the header needs (at most [`HEADER_BYTES`], except a JPEG
//! whose frame header comes after large metadata, read up to
//! [`JPEG_SCAN_BYTES`]). An image whose size is not known (a URL, a file id,
//! data that is not an image or is cut short) is billed as
//! [`DEFAULT_SIZE`], a large image, and the count says so: an image is never
//! left out of a count.
//!
//! The billing formulas ([`ImageRule`]) follow each provider's published
//! documentation; see each variant.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The size assumed for an image whose dimensions are not known: 2048 x 2048
/// pixels, at or above what every provider bills in full (OpenAI's tiles
/// after fitting 2048 x 2048, Anthropic's ~1,600-token cap, Gemini's tiles,
/// the patch cap).
pub const DEFAULT_SIZE: (u32, u32) = (2048, 2048);

/// Bytes of decoded data read for a header (PNG, GIF and WebP need fewer
/// than 32).
pub const HEADER_BYTES: usize = 64;

/// Bytes of decoded data a JPEG is scanned for its frame header.
pub const JPEG_SCAN_BYTES: usize = 1 << 20;

/// An image in a request, with what its bill depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInput {
    /// Width and height in pixels (assumed when `assumed` says why).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// OpenAI's `detail` (`low`, `high`, `auto`), when given.
    pub detail: Option<String>,
    /// Why the size is assumed ([`DEFAULT_SIZE`] or a `--image-size` hint),
    /// `None` when read from the image itself.
    pub assumed: Option<String>,
    /// Where it is, for notes: `message 3, image 1`.
    pub location: String,
}

impl ImageInput {
    /// An image at `location` from its source: inline base64 `data` (of a
    /// data URL or a provider's `data` field), or a reference (`url`, a file
    /// id) whose size is `hint` (`--image-size`) or else [`DEFAULT_SIZE`].
    pub fn new(
        source: ImageSource<'_>,
        detail: Option<String>,
        hint: Option<(u32, u32)>,
        location: String,
    ) -> ImageInput {
        let (size, assumed) = match source {
            ImageSource::Base64(data) => match size_of_base64(data) {
                Ok(size) => (size, None),
                Err(e) => (
                    DEFAULT_SIZE,
                    Some(format!(
                        "its inline data is unreadable ({e}); counted as {}x{}",
                        DEFAULT_SIZE.0, DEFAULT_SIZE.1
                    )),
                ),
            },
            ImageSource::Reference(what) => match hint {
                Some(size) => (
                    size,
                    Some(format!(
                        "{what}: counted at the --image-size of {}x{}",
                        size.0, size.1
                    )),
                ),
                None => (
                    DEFAULT_SIZE,
                    Some(format!(
                        "{what}: its size is unknown; counted as {}x{} (give --image-size WxH)",
                        DEFAULT_SIZE.0, DEFAULT_SIZE.1
                    )),
                ),
            },
        };
        ImageInput {
            width: size.0,
            height: size.1,
            detail,
            assumed,
            location,
        }
    }

    /// The image from an OpenAI-style `url`: a `data:` URL's inline data, or
    /// a link.
    pub fn from_url(
        url: &str,
        detail: Option<String>,
        hint: Option<(u32, u32)>,
        location: String,
    ) -> ImageInput {
        let source = match data_url_payload(url) {
            Some(data) => ImageSource::Base64(data),
            None => ImageSource::Reference("a linked image"),
        };
        ImageInput::new(source, detail, hint, location)
    }

    /// Whether the size was not read from the image itself, only for notes
    /// of a real default (a hint is what the user said).
    pub fn is_default(&self) -> bool {
        self.assumed.is_some() && (self.width, self.height) == DEFAULT_SIZE
    }
}

/// Where an image's bytes are.
#[derive(Debug, Clone, Copy)]
pub enum ImageSource<'a> {
    /// Inline base64 data.
    Base64(&'a str),
    /// A link or file id (what it is, for the note).
    Reference(&'static str),
}

/// The base64 payload of a `data:[mime];base64,DATA` URL.
pub fn data_url_payload(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("data:")?;
    let (head, data) = rest.split_once(',')?;
    head.ends_with(";base64").then_some(data)
}

/// Why an image's size could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The data is not valid base64.
    #[error("not valid base64")]
    Base64,
    /// No PNG, JPEG, GIF or WebP header.
    #[error("not a PNG, JPEG, GIF or WebP image")]
    Unknown,
    /// The header is cut short or inconsistent.
    #[error("the {0} header is cut short or invalid")]
    Truncated(&'static str),
}

/// The dimensions of an image given as base64, decoding only its first
/// bytes (see the module documentation).
pub fn size_of_base64(data: &str) -> Result<(u32, u32), ImageError> {
    let data = data.trim_start();
    let head = decode_prefix(data, HEADER_BYTES)?;
    match size_of(&head) {
        Err(ImageError::Truncated("JPEG")) if head.starts_with(&[0xFF, 0xD8]) => {
            size_of(&decode_prefix(data, JPEG_SCAN_BYTES)?)
        }
        other => other,
    }
}

/// Decodes at most about `bytes` bytes from the start of `data` (whole
/// 4-character groups; whitespace inside is skipped).
fn decode_prefix(data: &str, bytes: usize) -> Result<Vec<u8>, ImageError> {
    let chars = bytes.div_ceil(3) * 4;
    let clean: String = data
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .take(chars)
        .collect();
    if !clean.is_ascii() {
        return Err(ImageError::Base64);
    }
    let whole = clean.len() - clean.len() % 4;
    let clean = if whole == 0 {
        clean
    } else {
        clean[..whole].to_string()
    };
    STANDARD
        .decode(clean.as_bytes())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(clean.as_bytes()))
        .map_err(|_| ImageError::Base64)
}

/// The dimensions of an image from its first bytes.
pub fn size_of(bytes: &[u8]) -> Result<(u32, u32), ImageError> {
    let be16 = |i: usize| {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as u32)
    };
    let le16 = |i: usize| {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as u32)
    };
    let be32 = |i: usize| {
        bytes
            .get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let le24 = |i: usize| {
        bytes
            .get(i..i + 3)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], 0]))
    };
    let nonzero = |w: u32, h: u32, kind| {
        if w == 0 || h == 0 {
            Err(ImageError::Truncated(kind))
        } else {
            Ok((w, h))
        }
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        if bytes.get(12..16) != Some(b"IHDR") {
            return Err(ImageError::Truncated("PNG"));
        }
        return match (be32(16), be32(20)) {
            (Some(w), Some(h)) => nonzero(w, h, "PNG"),
            _ => Err(ImageError::Truncated("PNG")),
        };
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return match (le16(6), le16(8)) {
            (Some(w), Some(h)) => nonzero(w, h, "GIF"),
            _ => Err(ImageError::Truncated("GIF")),
        };
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        let t = Err(ImageError::Truncated("WebP"));
        return match bytes.get(12..16) {
            Some(b"VP8 ") => match (le16(26), le16(28)) {
                (Some(w), Some(h)) => nonzero(w & 0x3FFF, h & 0x3FFF, "WebP"),
                _ => t,
            },
            Some(b"VP8L") => match bytes.get(21..25) {
                Some(b) if bytes[20] == 0x2F => {
                    let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    nonzero((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "WebP")
                }
                _ => t,
            },
            Some(b"VP8X") => match (le24(24), le24(27)) {
                (Some(w), Some(h)) => nonzero(w + 1, h + 1, "WebP"),
                _ => t,
            },
            _ => t,
        };
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        // Walk the marker segments to the first start-of-frame.
        let mut i = 2;
        loop {
            while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
                i += 1;
            }
            let (Some(&0xFF), Some(&marker)) = (bytes.get(i), bytes.get(i + 1)) else {
                return Err(ImageError::Truncated("JPEG"));
            };
            if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
                i += 2;
                continue;
            }
            let Some(len) = be16(i + 2) else {
                return Err(ImageError::Truncated("JPEG"));
            };
            let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if sof {
                return match (be16(i + 7), be16(i + 5)) {
                    (Some(w), Some(h)) => nonzero(w, h, "JPEG"),
                    _ => Err(ImageError::Truncated("JPEG")),
                };
            }
            if len < 2 || marker == 0xD9 || marker == 0xDA {
                return Err(ImageError::Truncated("JPEG"));
            }
            i += 2 + len as usize;
        }
    }
    Err(ImageError::Unknown)
}

/// How a provider bills an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ImageRule {
    /// OpenAI's tile rule (gpt-4o, gpt-4.1, gpt-5, o1, o3, ...): `detail:
    /// low` costs `base`; otherwise the image is scaled to fit 2048 x 2048,
    /// then down so its shortest side is at most 768, and costs `base` plus
    /// `tile` per 512-pixel tile that covers it. `auto` (or no detail) is
    /// counted as `high`, the larger of the two.
    ///
    /// Source: OpenAI, "Images and vision", section "Calculating costs"
    /// (platform.openai.com/docs/guides/images-vision): 1024 x 1024 high is
    /// 765 tokens, 2048 x 4096 high is 1,105, any low is 85 (gpt-4o).
    OpenAiTiles {
        /// Tokens of every image (all of a `low` one).
        base: u32,
        /// Tokens per 512-pixel tile.
        tile: u32,
    },
    /// OpenAI's patch rule (gpt-4.1-mini, gpt-4.1-nano, o4-mini, gpt-5-mini,
    /// gpt-5-nano): the 32-pixel patches that cover the image, scaled down
    /// to at most 1,536 patches, times a per-model multiplier (in
    /// thousandths). Same source: 1024 x 1024 is 1,024 patches, 1800 x 2400
    /// is 1,452.
    OpenAiPatches {
        /// The multiplier in thousandths (1.62 is 1620).
        multiplier_milli: u32,
    },
    /// Anthropic: `width * height / 750` tokens, after scaling the image
    /// down (aspect ratio kept) so its long edge is at most 1,568 pixels and
    /// it costs at most about 1,600 tokens (1.2 megapixels).
    ///
    /// Source: Anthropic, "Vision", section "Calculate image costs"
    /// (docs.anthropic.com/en/docs/build-with-claude/vision): 200 x 200 is
    /// about 54 tokens, 1000 x 1000 about 1,334, 1092 x 1092 about 1,590.
    Anthropic,
    /// Google Gemini: an image with both sides at most 384 pixels is 258
    /// tokens; a larger one is cut into square tiles whose side is its
    /// shorter side / 1.5, kept between 256 and 768, each 258 tokens.
    ///
    /// Sources: Gemini API, "Understand and count tokens"
    /// (ai.google.dev/gemini-api/docs/tokens): at most 384 x 384 is 258
    /// tokens, larger ones are tiled in 768 x 768 tiles of 258 each; the
    /// tile size from Vertex AI's "Image understanding" page.
    Gemini,
}

impl ImageRule {
    /// The OpenAI rule for `model` (a name or dated snapshot). Unknown
    /// models get gpt-4o's tiles.
    pub fn openai(model: Option<&str>) -> ImageRule {
        let m = model.unwrap_or("").to_ascii_lowercase();
        let m = m.rsplit('/').next().unwrap_or("");
        let patches = |milli| ImageRule::OpenAiPatches {
            multiplier_milli: milli,
        };
        let tiles = |base, tile| ImageRule::OpenAiTiles { base, tile };
        if m.starts_with("gpt-4.1-mini") || m.starts_with("gpt-5-mini") {
            patches(1620)
        } else if m.starts_with("gpt-4.1-nano") || m.starts_with("gpt-5-nano") {
            patches(2460)
        } else if m.starts_with("o4-mini") {
            patches(1720)
        } else if m.starts_with("gpt-4o-mini") {
            tiles(2833, 5667)
        } else if m.starts_with("gpt-5") {
            tiles(70, 140)
        } else if m.starts_with("o1") || m.starts_with("o3") {
            tiles(75, 150)
        } else if m.starts_with("computer-use") {
            tiles(65, 129)
        } else {
            tiles(85, 170)
        }
    }

    /// The rule of `spec`'s provider: Anthropic's, Gemini's, or else
    /// OpenAI's for its name.
    pub fn for_model(spec: &super::ModelSpec) -> ImageRule {
        match spec.provider.as_str() {
            "anthropic" => ImageRule::Anthropic,
            "google" => ImageRule::Gemini,
            _ => ImageRule::openai(Some(&spec.name)),
        }
    }

    /// The tokens an image of `width` x `height` costs, with `detail` for
    /// OpenAI's tile rule.
    pub fn tokens(self, width: u32, height: u32, detail: Option<&str>) -> usize {
        let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
        match self {
            ImageRule::OpenAiTiles { base, tile } => {
                if detail == Some("low") {
                    return base as usize;
                }
                let fit = (2048.0 / w.max(h)).min(1.0);
                let (w, h) = (w * fit, h * fit);
                let short = (768.0 / w.min(h)).min(1.0);
                let (w, h) = (w * short, h * short);
                let tiles = ceil_tol(w / 512.0) * ceil_tol(h / 512.0);
                base as usize + tile as usize * tiles
            }
            ImageRule::OpenAiPatches { multiplier_milli } => {
                const CAP: f64 = 1536.0;
                let mut patches = ceil_tol(w / 32.0) * ceil_tol(h / 32.0);
                if patches as f64 > CAP {
                    let r = (32.0 * 32.0 * CAP / (w * h)).sqrt();
                    let fw = (w * r / 32.0).floor() / (w * r / 32.0);
                    let fh = (h * r / 32.0).floor() / (h * r / 32.0);
                    let r = r * fw.min(fh);
                    patches = ceil_tol(w * r / 32.0) * ceil_tol(h * r / 32.0);
                }
                let patches = patches.min(CAP as usize);
                (patches * multiplier_milli as usize).div_ceil(1000)
            }
            ImageRule::Anthropic => {
                let scale = (1568.0 / w.max(h))
                    .min((1_200_000.0 / (w * h)).sqrt())
                    .min(1.0);
                let (w, h) = ((w * scale).floor().max(1.0), (h * scale).floor().max(1.0));
                (w * h / 750.0).ceil() as usize
            }
            ImageRule::Gemini => {
                if w <= 384.0 && h <= 384.0 {
                    return 258;
                }
                let unit = (w.min(h) / 1.5).floor().clamp(256.0, 768.0);
                258usize
                    .saturating_mul(ceil_tol(w / unit))
                    .saturating_mul(ceil_tol(h / unit))
            }
        }
    }
}

/// The estimated tokens of one PDF page for `rule`'s provider: Gemini's
/// documented 258; for Anthropic and OpenAI, which bill a page as its text
/// plus an image of it, 3,000 tokens of text (the top of Anthropic's
/// documented 1,500-3,000 a page) plus a letter page's image (1700 x 2200)
/// by the rule.
pub fn pdf_page_tokens(rule: ImageRule) -> usize {
    match rule {
        ImageRule::Gemini => 258,
        other => 3_000 + other.tokens(1700, 2200, None),
    }
}

/// The pages of a PDF given as base64 (a `data:` URL's payload too): its
/// `/Type /Page` objects. `None` when the data is not base64 or not a PDF.
pub fn pdf_pages(base64: &str) -> Option<usize> {
    let base64 = data_url_payload(base64).unwrap_or(base64);
    let clean: String = base64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = STANDARD.decode(clean.as_bytes()).ok()?;
    if !bytes.starts_with(b"%PDF") {
        return None;
    }
    let finder = aho_corasick::AhoCorasick::new(["/Type/Page", "/Type /Page"]).ok()?;
    let pages = finder
        .find_iter(&bytes)
        .filter(|m| bytes.get(m.end()) != Some(&b's'))
        .count();
    Some(pages.max(1))
}

/// The estimated tokens of a PDF document at `location`: its pages
/// ([`pdf_pages`] of inline `base64` data; one page assumed for a link or
/// file id, or data that is not a PDF) at `per_page` each, with a note that
/// says what was estimated.
pub fn pdf_estimate(per_page: usize, base64: Option<&str>, location: &str) -> (usize, String) {
    match base64.map(pdf_pages) {
        Some(Some(pages)) => (
            pages.saturating_mul(per_page),
            format!("{location}: a PDF of {pages} page(s), estimated at {per_page} tokens a page"),
        ),
        Some(None) => (
            per_page,
            format!(
                "{location}: a PDF whose pages could not be read, estimated as one page of {per_page} tokens"
            ),
        ),
        None => (
            per_page,
            format!(
                "{location}: a linked document whose pages are unknown, estimated as one page of {per_page} tokens"
            ),
        ),
    }
}

/// `ceil`, except that a value within a millionth above an integer (a
/// rounding error of a scale that is meant to land on it) is that integer.
fn ceil_tol(x: f64) -> usize {
    let r = x.round();
    if (x - r).abs() < 1e-6 {
        r.max(0.0) as usize
    } else {
        x.ceil().max(0.0) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0]);
        b
    }

    #[test]
    fn headers() {
        assert_eq!(size_of(&png(640, 480)), Ok((640, 480)));
        assert_eq!(size_of(b"GIF89a\x20\x03\x58\x02"), Ok((800, 600)));
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        jpeg.extend([0xFF, 0xC0, 0, 11, 8, 0x01, 0xE0, 0x02, 0x80, 3]);
        assert_eq!(size_of(&jpeg), Ok((640, 480)));
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend([0x7F, 0x02, 0x00, 0xDF, 0x01, 0x00]);
        assert_eq!(size_of(&vp8x), Ok((640, 480)));
        let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2F".to_vec();
        let bits: u32 = 639 | (479 << 14);
        vp8l.extend(bits.to_le_bytes());
        assert_eq!(size_of(&vp8l), Ok((640, 480)));
        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\x9d\x01\x2a".to_vec();
        vp8.extend(640u16.to_le_bytes());
        vp8.extend(480u16.to_le_bytes());
        assert_eq!(size_of(&vp8), Ok((640, 480)));
        assert_eq!(size_of(b"hello"), Err(ImageError::Unknown));
        assert_eq!(size_of(&png(1, 1)[..18]), Err(ImageError::Truncated("PNG")));
        assert_eq!(
            size_of(&[0xFF, 0xD8, 0xFF]),
            Err(ImageError::Truncated("JPEG"))
        );
    }

    #[test]
    fn base64_prefix_only() {
        let mut data = png(1092, 1092);
        data.extend(vec![0u8; 10_000]);
        let b64 = STANDARD.encode(&data);
        assert_eq!(size_of_base64(&b64), Ok((1092, 1092)));
        assert_eq!(size_of_base64("!!!!"), Err(ImageError::Base64));
        assert_eq!(size_of_base64("iVBOékA="), Err(ImageError::Base64));
        assert!(ImageRule::Gemini.tokens(u32::MAX, u32::MAX, None) > 0);
        let cut = &STANDARD.encode(png(5, 5))[..12];
        assert!(matches!(size_of_base64(cut), Err(ImageError::Truncated(_))));
        assert_eq!(data_url_payload("data:image/png;base64,AAAA"), Some("AAAA"));
        assert_eq!(data_url_payload("https://x/a.png"), None);
    }

    #[test]
    fn openai_published_examples() {
        let gpt4o = ImageRule::openai(Some("gpt-4o"));
        assert_eq!(gpt4o.tokens(1024, 1024, Some("high")), 765);
        assert_eq!(gpt4o.tokens(2048, 4096, Some("high")), 1105);
        assert_eq!(gpt4o.tokens(4096, 8192, Some("low")), 85);
        let mini = ImageRule::openai(Some("gpt-4.1-mini"));
        assert_eq!(
            mini.tokens(1024, 1024, None),
            (1024 * 1620usize).div_ceil(1000)
        );
        let patches = ImageRule::OpenAiPatches {
            multiplier_milli: 1000,
        };
        assert_eq!(patches.tokens(1024, 1024, None), 1024);
        assert_eq!(patches.tokens(1800, 2400, None), 1452);
        assert_eq!(
            ImageRule::openai(Some("gpt-4o-mini-2024-07-18")).tokens(1, 1, Some("low")),
            2833
        );
    }

    #[test]
    fn anthropic_published_examples() {
        assert_eq!(ImageRule::Anthropic.tokens(200, 200, None), 54);
        assert_eq!(ImageRule::Anthropic.tokens(1000, 1000, None), 1334);
        assert_eq!(ImageRule::Anthropic.tokens(1092, 1092, None), 1590);
        // Larger images are scaled down to the cap.
        assert!(ImageRule::Anthropic.tokens(4000, 3000, None) <= 1600);
    }

    #[test]
    fn pdf_pages_are_counted() {
        let pdf = b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n3 0 obj <</Type/Page>>\n";
        let b64 = STANDARD.encode(pdf);
        assert_eq!(pdf_pages(&b64), Some(2));
        assert_eq!(
            pdf_pages(&format!("data:application/pdf;base64,{b64}")),
            Some(2)
        );
        assert_eq!(pdf_pages(&STANDARD.encode(b"not a pdf")), None);
        assert_eq!(pdf_page_tokens(ImageRule::Gemini), 258);
        let (tokens, note) = pdf_estimate(258, Some(&b64), "message 1");
        assert_eq!(tokens, 516);
        assert!(note.contains("2 page(s)"), "{note}");
    }

    #[test]
    fn gemini_published_examples() {
        assert_eq!(ImageRule::Gemini.tokens(384, 384, None), 258);
        assert_eq!(ImageRule::Gemini.tokens(100, 50, None), 258);
        assert_eq!(ImageRule::Gemini.tokens(1152, 1152, None), 258 * 4);
        assert_eq!(ImageRule::Gemini.tokens(385, 200, None), 258 * 2);
    }
}
