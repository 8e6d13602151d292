//! go-task's logger colours (internal/logger): every `task: …` message, listing and summary
//! piece is printed through one of these, as fatih/color writes it: `ESC[<attrs>m`, the
//! text, `ESC[0m`. Each colour can be replaced by `TASK_COLOR_<NAME>`: `r,g,b` (24-bit,
//! `38;2;r;g;b`) or `;`-separated SGR numbers; anything that does not parse keeps the
//! default. go-task reads these once at start-up; so does oxtask (settings → [`install`]).

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// `logger.Default`: SGR 0 (`TASK_COLOR_RESET`).
    Default,
    Blue,
    Green,
    Cyan,
    Yellow,
    Magenta,
    Red,
    BrightBlue,
    BrightGreen,
    BrightCyan,
    BrightYellow,
    BrightMagenta,
    BrightRed,
}

const ALL: [(Color, &str, i64); 13] = [
    (Color::Default, "RESET", 0),
    (Color::Blue, "BLUE", 34),
    (Color::Green, "GREEN", 32),
    (Color::Cyan, "CYAN", 36),
    (Color::Yellow, "YELLOW", 33),
    (Color::Magenta, "MAGENTA", 35),
    (Color::Red, "RED", 31),
    (Color::BrightBlue, "BRIGHT_BLUE", 94),
    (Color::BrightGreen, "BRIGHT_GREEN", 92),
    (Color::BrightCyan, "BRIGHT_CYAN", 96),
    (Color::BrightYellow, "BRIGHT_YELLOW", 93),
    (Color::BrightMagenta, "BRIGHT_MAGENTA", 95),
    (Color::BrightRed, "BRIGHT_RED", 91),
];

/// The colours of `output: prefixed` prefixes, by order of first appearance
/// (internal/output/prefixed.go `PrefixColorSequence`).
pub const PREFIX_SEQUENCE: [Color; 12] = [
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Green,
    Color::Red,
    Color::BrightYellow,
    Color::BrightBlue,
    Color::BrightMagenta,
    Color::BrightCyan,
    Color::BrightGreen,
    Color::BrightRed,
];

/// The opening escape of each colour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Palette {
    open: [String; 13],
}

impl Default for Palette {
    fn default() -> Self {
        Palette::from_env(|_| None)
    }
}

impl Palette {
    /// `get("COLOR_RED")` is the value of `TASK_COLOR_RED` (empty = unset).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Palette {
        let open = ALL.map(|(_, name, default)| {
            let attrs = get(&format!("COLOR_{name}"))
                .and_then(|v| parse_attrs(&v))
                .unwrap_or_else(|| vec![default]);
            let seq: Vec<String> = attrs.iter().map(i64::to_string).collect();
            format!("\x1b[{}m", seq.join(";"))
        });
        Palette { open }
    }

    /// `s` wrapped in colour `c`, as fatih/color's `Fprintf` writes it.
    pub fn paint(&self, c: Color, s: &str) -> String {
        let i = ALL.iter().position(|(x, _, _)| *x == c).unwrap_or(0);
        format!("{}{s}\x1b[0m", self.open[i])
    }
}

/// logger.envColor: three comma-separated parts are an RGB foreground; otherwise `;`-separated
/// integers (Go's `strconv.Atoi`: optional sign, decimal digits), all or nothing.
fn parse_attrs(v: &str) -> Option<Vec<i64>> {
    let parts: Vec<&str> = v.split(',').collect();
    let parts: Vec<&str> = if parts.len() == 3 {
        ["38", "2"].into_iter().chain(parts).collect()
    } else {
        v.split(';').collect()
    };
    parts.iter().map(|p| atoi(p)).collect()
}

fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

static PALETTE: OnceLock<Palette> = OnceLock::new();

/// Installs the process's palette (once, from the settings layer); later calls are ignored.
pub fn install(p: Palette) {
    let _ = PALETTE.set(p);
}

/// `s` in colour `c` with the installed palette (go-task's defaults when none was installed).
pub fn paint(c: Color, s: &str) -> String {
    PALETTE.get_or_init(Palette::default).paint(c, s)
}

/// `s` in colour `c` when `on`, else unchanged (go-task's `logger.None` when colour is off).
pub fn paint_if(on: bool, c: Color, s: &str) -> String {
    if on {
        paint(c, s)
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pal(name: &str, v: &str) -> Palette {
        let (name, v) = (name.to_string(), v.to_string());
        Palette::from_env(move |k| (k == name).then(|| v.clone()))
    }

    #[test]
    fn defaults_are_fatih_colors() {
        let p = Palette::default();
        assert_eq!(p.paint(Color::Green, "x"), "\x1b[32mx\x1b[0m");
        assert_eq!(p.paint(Color::Default, "x"), "\x1b[0mx\x1b[0m");
        assert_eq!(p.paint(Color::BrightRed, "x"), "\x1b[91mx\x1b[0m");
    }

    #[test]
    fn overrides_follow_env_color() {
        assert_eq!(
            pal("COLOR_GREEN", "1;31").paint(Color::Green, "x"),
            "\x1b[1;31mx\x1b[0m"
        );
        assert_eq!(
            pal("COLOR_GREEN", "255,0,10").paint(Color::Green, "x"),
            "\x1b[38;2;255;0;10mx\x1b[0m"
        );
        assert_eq!(
            pal("COLOR_GREEN", "+4").paint(Color::Green, "x"),
            "\x1b[4mx\x1b[0m"
        );
        assert_eq!(
            pal("COLOR_GREEN", "-3").paint(Color::Green, "x"),
            "\x1b[-3mx\x1b[0m"
        );
        for bad in [
            "",
            " 31",
            "1;;2",
            "x",
            "1,2",
            "4;1,2",
            "99999999999999999999",
        ] {
            assert_eq!(
                pal("COLOR_GREEN", bad).paint(Color::Green, "x"),
                "\x1b[32mx\x1b[0m",
                "{bad:?}"
            );
        }
    }
}
