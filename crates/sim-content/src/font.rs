//! A hand-drawn 5×7 bitmap font (with two descender rows) for printable
//! ASCII, and the text renderer built on [`I420Frame::fill_rect`].
//!
//! Why a bitmap font and not a font crate: the simulator only needs crisp,
//! OCR-friendly monospace text, and solid scaled pixels on a flat background
//! are exactly what tesseract reads best. Glyphs are 5 columns wide; rows
//! 0..=6 hold capitals and digits (the baseline is under row 6), lowercase
//! letters use rows 2..=6, and rows 7..=8 are descenders. The character cell
//! adds one blank column and two blank rows of spacing.

use crate::frame::{I420Frame, Yuv};

/// Glyph width in font pixels.
pub(crate) const GLYPH_W: u32 = 5;
/// Glyph height in font pixels, descenders included.
pub(crate) const GLYPH_H: u32 = 9;
/// Horizontal advance per character, in font pixels.
pub(crate) const CELL_W: u32 = GLYPH_W + 1;
/// Line advance, in font pixels.
pub(crate) const CELL_H: u32 = GLYPH_H + 2;

/// Glyph art for 0x20..=0x7E in code order. Each entry is 7 or 9 groups of
/// five `#`/`.` cells separated by spaces, top row first; 7-group entries
/// have empty descender rows. Parsed at compile time by [`parse_glyph`], so
/// a malformed entry is a build error, not a runtime panic.
const ART: [&str; 95] = [
    "..... ..... ..... ..... ..... ..... .....", // space
    "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..", // !
    ".#.#. .#.#. .#.#. ..... ..... ..... .....", // "
    ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.", // #
    "..#.. .#### #.#.. .###. ..#.# ####. ..#..", // $
    "##... ##..# ...#. ..#.. .#... #..## ...##", // %
    ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#", // &
    "..#.. ..#.. ..#.. ..... ..... ..... .....", // '
    "...#. ..#.. .#... .#... .#... ..#.. ...#.", // (
    ".#... ..#.. ...#. ...#. ...#. ..#.. .#...", // )
    "..... ..#.. #.#.# .###. #.#.# ..#.. .....", // *
    "..... ..#.. ..#.. ##### ..#.. ..#.. .....", // +
    "..... ..... ..... ..... ..... .##.. .##.. ..#.. .#...", // ,
    "..... ..... ..... ##### ..... ..... .....", // -
    "..... ..... ..... ..... ..... .##.. .##..", // .
    "....# ....# ...#. ..#.. .#... #.... #....", // /
    ".##.. #..#. #..#. #..#. #..#. #..#. .##..", // 0 (narrow, unlike O)
    "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.", // 1
    ".###. #...# ....# ...#. ..#.. .#... #####", // 2
    "##### ...#. ..#.. ...#. ....# #...# .###.", // 3
    "...#. ..##. .#.#. #..#. ##### ...#. ...#.", // 4
    "##### #.... ####. ....# ....# #...# .###.", // 5
    "..##. .#... #.... ####. #...# #...# .###.", // 6
    "##### ....# ...#. ..#.. .#... .#... .#...", // 7
    ".###. #...# #...# .###. #...# #...# .###.", // 8
    ".###. #...# #...# .#### ....# ...#. .##..", // 9
    "..... ..... .##.. .##.. ..... .##.. .##..", // :
    "..... ..... .##.. .##.. ..... .##.. .##.. ..#.. .#...", // ;
    "...#. ..#.. .#... #.... .#... ..#.. ...#.", // <
    "..... ..... ##### ..... ##### ..... .....", // =
    ".#... ..#.. ...#. ....# ...#. ..#.. .#...", // >
    ".###. #...# ....# ...#. ..#.. ..... ..#..", // ?
    ".###. #...# ....# .##.# #.#.# #.#.# .###.", // @
    ".###. #...# #...# ##### #...# #...# #...#", // A
    "####. #...# #...# ####. #...# #...# ####.", // B
    ".###. #...# #.... #.... #.... #...# .###.", // C
    "###.. #..#. #...# #...# #...# #..#. ###..", // D
    "##### #.... #.... ####. #.... #.... #####", // E
    "##### #.... #.... ####. #.... #.... #....", // F
    ".###. #...# #.... #.### #...# #...# .####", // G
    "#...# #...# #...# ##### #...# #...# #...#", // H
    ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", // I
    "..### ...#. ...#. ...#. ...#. #..#. .##..", // J
    "#...# #..#. #.#.. ##... #.#.. #..#. #...#", // K
    "#.... #.... #.... #.... #.... #.... #####", // L
    "#...# ##.## #.#.# #.#.# #...# #...# #...#", // M
    "#...# ##..# ##..# #.#.# #..## #..## #...#", // N
    ".###. #...# #...# #...# #...# #...# .###.", // O
    "####. #...# #...# ####. #.... #.... #....", // P
    ".###. #...# #...# #...# #.#.# #..#. .##.#", // Q
    "####. #...# #...# ####. #.#.. #..#. #...#", // R
    ".#### #.... #.... .###. ....# ....# ####.", // S
    "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..", // T
    "#...# #...# #...# #...# #...# #...# .###.", // U
    "#...# #...# #...# #...# #...# .#.#. ..#..", // V
    "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", // W
    "#...# #...# .#.#. ..#.. .#.#. #...# #...#", // X
    "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", // Y
    "##### ....# ...#. ..#.. .#... #.... #####", // Z
    ".###. .#... .#... .#... .#... .#... .###.", // [
    "..... #.... .#... ..#.. ...#. ....# .....", // backslash
    ".###. ...#. ...#. ...#. ...#. ...#. .###.", // ]
    "..#.. .#.#. #...# ..... ..... ..... .....", // ^
    "..... ..... ..... ..... ..... ..... ..... ##### .....", // _
    ".#... ..#.. ...#. ..... ..... ..... .....", // `
    "..... ..... .###. ....# .#### #...# .####", // a
    "#.... #.... #.##. ##..# #...# #...# ####.", // b
    "..... ..... .###. #.... #.... #...# .###.", // c
    "....# ....# .##.# #..## #...# #...# .####", // d
    "..... ..... .###. #...# ##### #.... .###.", // e
    "..##. .#..# .#... ###.. .#... .#... .#...", // f
    "..... ..... .#### #...# #...# #...# .#### ....# .###.", // g
    "#.... #.... #.##. ##..# #...# #...# #...#", // h
    "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.", // i
    "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..", // j
    "#.... #.... #..#. #.#.. ##... #.#.. #..#.", // k
    ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", // l
    "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#", // m
    "..... ..... #.##. ##..# #...# #...# #...#", // n
    "..... ..... .###. #...# #...# #...# .###.", // o
    "..... ..... ####. #...# #...# #...# ####. #.... #....", // p
    "..... ..... .#### #...# #...# #...# .#### ....# ....#", // q
    "..... ..... #.##. ##..# #.... #.... #....", // r
    "..... ..... .#### #.... .###. ....# ####.", // s
    ".#... .#... ####. .#... .#... .#..# ..##.", // t
    "..... ..... #...# #...# #...# #..## .##.#", // u
    "..... ..... #...# #...# #...# .#.#. ..#..", // v
    "..... ..... #...# #...# #.#.# #.#.# .#.#.", // w
    "..... ..... #...# .#.#. ..#.. .#.#. #...#", // x
    "..... ..... #...# #...# #...# #...# .#### ....# .###.", // y
    "..... ..... ##### ...#. ..#.. .#... #####", // z
    "...## ..#.. ..#.. .#... ..#.. ..#.. ...##", // {
    "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. .....", // |
    "##... ..#.. ..#.. ...#. ..#.. ..#.. ##...", // }
    "..... ..... .#... #.#.# ...#. ..... .....", // ~
];

/// One glyph: bit 4 of each row is the leftmost column.
type Glyph = [u8; GLYPH_H as usize];

/// Parses one [`ART`] entry. Panics (at compile time, since it only runs in
/// the `const` initialiser of [`GLYPHS`]) if the entry is malformed.
const fn parse_glyph(art: &str) -> Glyph {
    let bytes = art.as_bytes();
    let mut glyph = [0u8; GLYPH_H as usize];
    let mut row = 0;
    let mut col = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => {
                assert!(col == GLYPH_W, "glyph row is not 5 cells wide");
                row += 1;
                col = 0;
            }
            b'#' | b'.' => {
                assert!(col < GLYPH_W && row < GLYPH_H as usize, "glyph too large");
                if bytes[i] == b'#' {
                    glyph[row] |= 1 << (GLYPH_W - 1 - col);
                }
                col += 1;
            }
            _ => panic!("glyph art may only contain '#', '.' and spaces"),
        }
        i += 1;
    }
    assert!(col == GLYPH_W, "last glyph row is not 5 cells wide");
    assert!(row == 6 || row == 8, "glyph must have 7 or 9 rows");
    glyph
}

/// The parsed font, built at compile time.
const GLYPHS: [Glyph; 95] = {
    let mut out = [[0u8; GLYPH_H as usize]; 95];
    let mut i = 0;
    while i < 95 {
        out[i] = parse_glyph(ART[i]);
        i += 1;
    }
    out
};

/// The glyph for a character; anything outside printable ASCII draws as `?`
/// so that a stray character is visible rather than silently dropped.
fn glyph(c: char) -> &'static Glyph {
    let code = c as u32;
    let idx = if (0x20..=0x7E).contains(&code) {
        (code - 0x20) as usize
    } else {
        ('?' as u32 - 0x20) as usize
    };
    // `idx` is at most 0x7E - 0x20 = 94, and GLYPHS has 95 entries.
    &GLYPHS[idx]
}

/// Width in pixels of `chars` characters at `scale`.
pub(crate) fn text_width(chars: usize, scale: u32) -> i64 {
    chars as i64 * i64::from(CELL_W * scale)
}

/// Draws `text` with its top-left cell corner at `(x, y)`; each font pixel
/// becomes a `scale × scale` block of `fg`. Only foreground pixels are
/// written: the caller paints the background first.
pub(crate) fn draw_text(frame: &mut I420Frame, x: i64, y: i64, scale: u32, text: &str, fg: Yuv) {
    let s = i64::from(scale.max(1));
    let mut pen_x = x;
    for c in text.chars() {
        let g = glyph(c);
        for (row, bits) in g.iter().enumerate() {
            if *bits == 0 {
                continue;
            }
            // Merge horizontal runs into one rectangle: fewer, longer fills.
            let mut col = 0u32;
            while col < GLYPH_W {
                if bits & (1 << (GLYPH_W - 1 - col)) == 0 {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < GLYPH_W && bits & (1 << (GLYPH_W - 1 - col)) != 0 {
                    col += 1;
                }
                frame.fill_rect(
                    pen_x + i64::from(start) * s,
                    y + row as i64 * s,
                    i64::from(col - start) * s,
                    s,
                    fg,
                );
            }
        }
        pen_x += i64::from(CELL_W) * s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Rgb;

    #[test]
    fn every_printable_glyph_but_space_has_ink() {
        for code in 0x21u8..=0x7E {
            let g = glyph(char::from(code));
            assert!(
                g.iter().any(|&r| r != 0),
                "glyph {:?} is blank",
                char::from(code)
            );
        }
        assert!(glyph(' ').iter().all(|&r| r == 0));
    }

    #[test]
    fn glyphs_are_pairwise_distinct() {
        for (a, ga) in GLYPHS.iter().enumerate() {
            for (b, gb) in GLYPHS.iter().enumerate().skip(a + 1) {
                assert_ne!(ga, gb, "glyphs {a} and {b} are identical");
            }
        }
    }

    #[test]
    fn descenders_only_on_descender_letters() {
        let with_descender: Vec<char> = (0x20u8..=0x7E)
            .map(char::from)
            .filter(|&c| glyph(c)[7] != 0 || glyph(c)[8] != 0)
            .collect();
        assert_eq!(
            with_descender,
            vec![',', ';', '_', 'g', 'j', 'p', 'q', 'y', '|']
        );
    }

    #[test]
    fn non_ascii_draws_as_question_mark() {
        assert_eq!(glyph('é'), glyph('?'));
    }

    #[test]
    fn draw_text_paints_scaled_blocks() {
        let bg = Rgb(0, 0, 0).to_yuv();
        let fg = Rgb(255, 255, 255).to_yuv();
        let mut f = I420Frame::new(24, 20, bg);
        draw_text(&mut f, 0, 0, 2, "L", fg);
        // 'L' is a left column of 7 rows plus a bottom bar of 5.
        let y = f.y_plane();
        let lit = y.iter().filter(|&&p| p == fg.y).count();
        assert_eq!(lit, (7 + 4) * 4);
        assert_eq!(y[0], fg.y);
        assert_eq!(y[6 * 2 * 24 + 9], fg.y); // bottom bar, last column
        assert_eq!(y[2], bg.y); // right of the stem
        assert_eq!(text_width(3, 2), 36);
    }
}
