//! Go's `strconv` behaviour that templates can observe: number literal
//! parsing (with Go's prefixes and underscores), float formatting
//! (`%e %f %g %b %x` and the shortest form), and quoting/unquoting.

/// Error kinds of Go's number parsers.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum NumErr {
    Syntax,
    Range,
}

fn lower(c: u8) -> u8 {
    c | 0x20
}

/// Go's `underscoreOK`: underscores only between digits or after a prefix.
pub fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let b = if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        &b[1..]
    } else {
        b
    };
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(lower(b[1]), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = lower(b[1]) == b'x';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || hex && (b'a'..=b'f').contains(&lower(c)) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseUint(s, base, 64)` for base 0 (prefix-detecting) or 10.
pub fn parse_uint(s: &str, base0: bool) -> Result<u64, NumErr> {
    if s.is_empty() {
        return Err(NumErr::Syntax);
    }
    let s0 = s;
    let b = s.as_bytes();
    let mut base: u64 = 10;
    let mut digits = b;
    if base0 && b[0] == b'0' {
        if b.len() >= 3 && lower(b[1]) == b'b' {
            base = 2;
            digits = &b[2..];
        } else if b.len() >= 3 && lower(b[1]) == b'o' {
            base = 8;
            digits = &b[2..];
        } else if b.len() >= 3 && lower(b[1]) == b'x' {
            base = 16;
            digits = &b[2..];
        } else {
            base = 8;
            digits = &b[1..];
        }
    }
    let mut n: u64 = 0;
    let mut underscores = false;
    let mut range_err = false;
    for &c in digits {
        let d = match c {
            b'_' if base0 => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => (c - b'0') as u64,
            b'a'..=b'z' => (c - b'a' + 10) as u64,
            b'A'..=b'Z' => (c - b'A' + 10) as u64,
            _ => return Err(NumErr::Syntax),
        };
        if d >= base {
            return Err(NumErr::Syntax);
        }
        if range_err {
            continue;
        }
        match n.checked_mul(base).and_then(|x| x.checked_add(d)) {
            Some(v) => n = v,
            None => range_err = true,
        }
    }
    if underscores && !underscore_ok(s0) {
        return Err(NumErr::Syntax);
    }
    if range_err {
        return Err(NumErr::Range);
    }
    Ok(n)
}

/// `strconv.ParseInt(s, base, 64)` for base 0 or 10.
pub fn parse_int(s: &str, base0: bool) -> Result<i64, NumErr> {
    if s.is_empty() {
        return Err(NumErr::Syntax);
    }
    let (neg, rest) = match s.as_bytes()[0] {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint(rest, base0)?;
    if neg {
        if u > (i64::MAX as u64) + 1 {
            return Err(NumErr::Range);
        }
        Ok((u as i64).wrapping_neg())
    } else {
        if u > i64::MAX as u64 {
            return Err(NumErr::Range);
        }
        Ok(u as i64)
    }
}

/// `strconv.ParseFloat(s, 64)`: decimal and hex floats, underscores,
/// `inf`/`infinity`/`nan`; out-of-range finite literals are range errors.
pub fn parse_float(s: &str) -> Result<f64, NumErr> {
    if s.is_empty() {
        return Err(NumErr::Syntax);
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let lb = body.to_ascii_lowercase();
    if lb == "inf" || lb == "infinity" {
        return Ok(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lb == "nan" {
        return Ok(f64::NAN);
    }
    if body.contains('_') && !underscore_ok(s) {
        return Err(NumErr::Syntax);
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return Err(NumErr::Syntax);
    }
    let v = if clean.len() > 2 && clean.as_bytes()[0] == b'0' && lower(clean.as_bytes()[1]) == b'x'
    {
        parse_hex_float(&clean[2..])?
    } else {
        let cb = clean.as_bytes();
        // Rust accepts forms Go rejects ("inf" handled above); only digits,
        // one dot and an exponent are valid here.
        let mut seen_digit = false;
        let mut i = 0;
        while i < cb.len() && cb[i].is_ascii_digit() {
            i += 1;
            seen_digit = true;
        }
        if i < cb.len() && cb[i] == b'.' {
            i += 1;
            while i < cb.len() && cb[i].is_ascii_digit() {
                i += 1;
                seen_digit = true;
            }
        }
        if !seen_digit {
            return Err(NumErr::Syntax);
        }
        if i < cb.len() && lower(cb[i]) == b'e' {
            i += 1;
            if i < cb.len() && (cb[i] == b'+' || cb[i] == b'-') {
                i += 1;
            }
            let st = i;
            while i < cb.len() && cb[i].is_ascii_digit() {
                i += 1;
            }
            if st == i {
                return Err(NumErr::Syntax);
            }
        }
        if i != cb.len() {
            return Err(NumErr::Syntax);
        }
        let v: f64 = clean.parse().map_err(|_| NumErr::Syntax)?;
        if v.is_infinite() {
            return Err(NumErr::Range);
        }
        v
    };
    Ok(if neg { -v } else { v })
}

/// Hex float mantissa `h.hhhp±d` (the `0x` already removed).
fn parse_hex_float(s: &str) -> Result<f64, NumErr> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut any = false;
    let mut dot = false;
    let mut trunc = false;
    while i < b.len() {
        let c = b[i];
        if c == b'.' {
            if dot {
                return Err(NumErr::Syntax);
            }
            dot = true;
            i += 1;
            continue;
        }
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => break,
        };
        any = true;
        if mant >> 60 == 0 {
            mant = mant * 16 + d as u64;
            if dot {
                exp -= 4;
            }
        } else {
            if d != 0 {
                trunc = true;
            }
            if !dot {
                exp += 4;
            }
        }
        i += 1;
    }
    if !any {
        return Err(NumErr::Syntax);
    }
    // Go requires the p exponent for hex floats.
    if i >= b.len() || lower(b[i]) != b'p' {
        return Err(NumErr::Syntax);
    }
    i += 1;
    let mut eneg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        eneg = b[i] == b'-';
        i += 1;
    }
    let st = i;
    let mut e: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        e = (e * 10 + (b[i] - b'0') as i64).min(100_000);
        i += 1;
    }
    if st == i || i != b.len() {
        return Err(NumErr::Syntax);
    }
    exp += if eneg { -e } else { e };
    if trunc {
        mant |= 1;
    }
    let v = (mant as f64) * 2f64.powi(exp.clamp(-2000, 2000) as i32);
    if v.is_infinite() {
        return Err(NumErr::Range);
    }
    Ok(v)
}

/// Decimal digits of a float: `digits` without leading zeros, `dp` the
/// position of the decimal point (value = 0.digits × 10^dp).
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

fn digits_from_sci(s: &str) -> Digits {
    // s looks like "1.2345e-7" or "0e0".
    let (m, e) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = e.parse().unwrap_or(0);
    let mut d: Vec<u8> = m.bytes().filter(|c| c.is_ascii_digit()).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    if d == b"0" {
        return Digits {
            d: Vec::new(),
            dp: 0,
        };
    }
    Digits { d, dp: exp + 1 }
}

fn shortest_digits(v: f64) -> Digits {
    digits_from_sci(&format!("{:e}", v.abs()))
}

fn fixed_digits(v: f64, n: usize) -> Digits {
    digits_from_sci(&format!("{:.*e}", n.saturating_sub(1), v.abs()))
}

fn fmt_e(out: &mut String, neg: bool, d: &Digits, prec: i32, fmt: u8) {
    if neg {
        out.push('-');
    }
    out.push(if d.d.is_empty() { '0' } else { d.d[0] as char });
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = d.d.len().min(prec as usize + 1);
        if i < m {
            out.push_str(std::str::from_utf8(&d.d[i..m]).unwrap());
            i = m;
        }
        while i <= prec as usize {
            out.push('0');
            i += 1;
        }
    }
    out.push(fmt as char);
    let mut exp = if d.d.is_empty() { 0 } else { d.dp - 1 };
    if exp < 0 {
        out.push('-');
        exp = -exp;
    } else {
        out.push('+');
    }
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

fn fmt_f(out: &mut String, neg: bool, d: &Digits, prec: i32) {
    if neg {
        out.push('-');
    }
    if d.dp > 0 {
        let m = (d.dp as usize).min(d.d.len());
        out.push_str(std::str::from_utf8(&d.d[..m]).unwrap());
        for _ in m..d.dp as usize {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = d.dp + i - 1;
            let c = if j >= 0 && (j as usize) < d.d.len() {
                d.d[j as usize]
            } else {
                b'0'
            };
            out.push(c as char);
        }
    }
}

/// `strconv.FormatFloat(v, fmt, prec, 64)`.
pub fn format_float(v: f64, fmt: u8, prec: i32) -> String {
    let mut out = String::new();
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = v.is_sign_negative();
    match fmt {
        b'b' => return fmt_b(v),
        b'x' | b'X' => return fmt_x(v, prec, fmt),
        _ => {}
    }
    let shortest = prec < 0;
    match fmt {
        b'e' | b'E' => {
            let d = if shortest {
                shortest_digits(v)
            } else {
                fixed_digits(v, prec as usize + 1)
            };
            let p = if shortest {
                (d.d.len() as i32 - 1).max(0)
            } else {
                prec
            };
            fmt_e(&mut out, neg, &d, p, fmt);
        }
        b'f' => {
            if shortest {
                let d = shortest_digits(v);
                let p = (d.d.len() as i32 - d.dp).max(0);
                fmt_f(&mut out, neg, &d, p);
            } else {
                let s = format!("{:.*}", prec as usize, v.abs());
                if neg {
                    out.push('-');
                }
                out.push_str(&s);
            }
        }
        b'g' | b'G' => {
            let (d, mut prec) = if shortest {
                let d = shortest_digits(v);
                let n = d.d.len() as i32;
                (d, n)
            } else {
                let p = if prec == 0 { 1 } else { prec };
                (fixed_digits(v, p as usize), p)
            };
            let nd = d.d.len() as i32;
            let mut eprec = prec;
            if eprec > nd && nd >= d.dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = d.dp - 1;
            if nd == 0 {
                // Zero prints as "0" (no exponent).
                if neg {
                    out.push('-');
                }
                out.push('0');
                return out;
            }
            if exp < -4 || exp >= eprec {
                if prec > nd {
                    prec = nd;
                }
                fmt_e(&mut out, neg, &d, prec - 1, fmt + b'e' - b'g');
            } else {
                if prec > d.dp {
                    prec = nd;
                }
                fmt_f(&mut out, neg, &d, (prec - d.dp).max(0));
            }
        }
        _ => {
            out.push('%');
            out.push(fmt as char);
        }
    }
    out
}

fn float_parts(v: f64) -> (bool, u64, i32) {
    let bits = v.to_bits();
    let neg = bits >> 63 != 0;
    let mut exp = ((bits >> 52) & 0x7ff) as i32;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1u64 << 52;
    }
    exp -= 1023;
    (neg, mant, exp)
}

fn fmt_b(v: f64) -> String {
    let (neg, mant, exp) = float_parts(v);
    let e = exp - 52;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str(&mant.to_string());
    s.push('p');
    if e >= 0 {
        s.push('+');
    }
    s.push_str(&e.to_string());
    s
}

fn fmt_x(v: f64, prec: i32, fmt: u8) -> String {
    let (neg, mut mant, mut exp) = float_parts(v);
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - 52;
    while mant != 0 && mant & (1u64 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1u64 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1u64 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8] = if fmt == b'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push('0');
    s.push(fmt as char);
    s.push((b'0' + ((mant >> 60) & 1) as u8) as char);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        s.push('.');
        while mant != 0 {
            s.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    } else if prec > 0 {
        s.push('.');
        for _ in 0..prec {
            s.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    s.push(if fmt == b'X' { 'P' } else { 'p' });
    if exp < 0 {
        s.push('-');
        exp = -exp;
    } else {
        s.push('+');
    }
    if exp < 10 {
        s.push('0');
    }
    s.push_str(&exp.to_string());
    s
}

/// Go's `unicode.IsPrint`, approximated without Unicode category tables:
/// controls, non-ASCII spaces, format characters, surrogates, private use
/// and noncharacters are not printable.
pub fn is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x20 || (0x7f..0xa0).contains(&u) {
        return false;
    }
    if u < 0x7f {
        return true;
    }
    if c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x890..=0x891 | 0x8e2 | 0x180e
        | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb
        | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a
        | 0xe0001 | 0xe0020..=0xe007f | 0xe000..=0xf8ff | 0xf0000..=0x10ffff
        | 0xfdd0..=0xfdef | 0xfffe | 0xffff)
        && u & 0xfffe != 0xfffe
}

fn push_escaped_rune(out: &mut String, r: char, quote: char, ascii_only: bool) {
    if r == quote || r == '\\' {
        out.push('\\');
        out.push(r);
        return;
    }
    if ascii_only {
        if (r as u32) < 0x80 && is_print(r) {
            out.push(r);
            return;
        }
    } else if is_print(r) {
        out.push(r);
        return;
    }
    match r {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        _ => {
            let u = r as u32;
            if u < 0x20 || u == 0x7f {
                out.push_str(&format!("\\x{:02x}", u));
            } else if u < 0x10000 {
                out.push_str(&format!("\\u{:04x}", u));
            } else {
                out.push_str(&format!("\\U{:08x}", u));
            }
        }
    }
}

/// Go's `strconv.Quote` / `QuoteToASCII` over a byte string.
pub fn quote_bytes(s: &[u8], ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut i = 0;
    while i < s.len() {
        match decode_rune(&s[i..]) {
            (Some(c), w) => {
                push_escaped_rune(&mut out, c, '"', ascii_only);
                i += w;
            }
            (None, _) => {
                out.push_str(&format!("\\x{:02x}", s[i]));
                i += 1;
            }
        }
    }
    out.push('"');
    out
}

pub fn quote(s: &str) -> String {
    quote_bytes(s.as_bytes(), false)
}

/// Go's `strconv.QuoteRune` (`ascii_only`: `QuoteRuneToASCII`).
pub fn quote_rune(r: i64, ascii_only: bool) -> String {
    let c = if (0..=0x10ffff).contains(&r) {
        char::from_u32(r as u32)
    } else {
        None
    };
    let c = c.unwrap_or('\u{fffd}');
    let mut out = String::from("'");
    push_escaped_rune(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}

/// Go's `strconv.CanBackquote`.
pub fn can_backquote(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        match decode_rune(&s[i..]) {
            (Some(c), w) => {
                if w > 1 {
                    if c == '\u{feff}' {
                        return false;
                    }
                    i += w;
                    continue;
                }
                if c == '`' || ((c as u32) < 0x20 && c != '\t') || c == '\x7f' {
                    return false;
                }
                i += 1;
            }
            (None, _) => return false,
        }
    }
    true
}

/// Decodes one UTF-8 rune; `(None, 1)` for an invalid byte.
pub fn decode_rune(b: &[u8]) -> (Option<char>, usize) {
    if b.is_empty() {
        return (None, 0);
    }
    let c0 = b[0];
    let n = if c0 < 0x80 {
        return (Some(c0 as char), 1);
    } else if c0 & 0xe0 == 0xc0 {
        2
    } else if c0 & 0xf0 == 0xe0 {
        3
    } else if c0 & 0xf8 == 0xf0 {
        4
    } else {
        return (None, 1);
    };
    if b.len() < n {
        return (None, 1);
    }
    match std::str::from_utf8(&b[..n]) {
        Ok(s) => (s.chars().next(), n),
        Err(_) => (None, 1),
    }
}

fn unhex(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some((c - b'0') as u32),
        b'a'..=b'f' => Some((c - b'a' + 10) as u32),
        b'A'..=b'F' => Some((c - b'A' + 10) as u32),
        _ => None,
    }
}

/// Go's `strconv.UnquoteChar`: decodes one character or escape at the
/// start of `s`, returning (value, is multibyte rune, rest).
/// Bytes from `\x`/octal escapes are returned as values < 256 with
/// `multibyte == false`.
pub fn unquote_char(s: &[u8], quote: u8) -> Result<(u32, bool, &[u8]), ()> {
    if s.is_empty() {
        return Err(());
    }
    let c = s[0];
    if c == quote && (quote == b'\'' || quote == b'"') {
        return Err(());
    }
    if c >= 0x80 {
        let (r, w) = decode_rune(s);
        return match r {
            Some(r) => Ok((r as u32, true, &s[w..])),
            None => Ok((0xfffd, true, &s[1..])),
        };
    }
    if c != b'\\' {
        return Ok((c as u32, false, &s[1..]));
    }
    if s.len() <= 1 {
        return Err(());
    }
    let c = s[1];
    let s = &s[2..];
    let simple = |v: u8| Ok((v as u32, false, s));
    match c {
        b'a' => simple(7),
        b'b' => simple(8),
        b'f' => simple(12),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'v' => simple(11),
        b'x' | b'u' | b'U' => {
            let n = match c {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            if s.len() < n {
                return Err(());
            }
            let mut v: u32 = 0;
            for &d in &s[..n] {
                v = v.checked_mul(16).ok_or(())? + unhex(d).ok_or(())?;
            }
            if c == b'x' {
                return Ok((v, false, &s[n..]));
            }
            if char::from_u32(v).is_none() {
                return Err(());
            }
            Ok((v, true, &s[n..]))
        }
        b'0'..=b'7' => {
            if s.len() < 2 {
                return Err(());
            }
            let mut v = (c - b'0') as u32;
            for &d in &s[..2] {
                if !(b'0'..=b'7').contains(&d) {
                    return Err(());
                }
                v = v * 8 + (d - b'0') as u32;
            }
            if v > 255 {
                return Err(());
            }
            Ok((v, false, &s[2..]))
        }
        b'\\' => simple(b'\\'),
        b'\'' | b'"' => {
            if c != quote {
                return Err(());
            }
            simple(c)
        }
        _ => Err(()),
    }
}

fn push_rune_bytes(out: &mut Vec<u8>, v: u32, multibyte: bool) {
    if v < 0x80 || !multibyte {
        if multibyte {
            out.push(v as u8);
        } else {
            out.push(v as u8);
        }
    } else {
        let c = char::from_u32(v).unwrap_or('\u{fffd}');
        let mut b = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals (bytes out).
pub fn unquote(s: &str) -> Result<Vec<u8>, ()> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err(());
    }
    let q = b[0];
    if q != b[b.len() - 1] {
        return Err(());
    }
    let inner = &b[1..b.len() - 1];
    if q == b'`' {
        if inner.contains(&b'`') {
            return Err(());
        }
        return Ok(inner.iter().copied().filter(|&c| c != b'\r').collect());
    }
    if q != b'"' && q != b'\'' {
        return Err(());
    }
    if inner.contains(&b'\n') {
        return Err(());
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while !rest.is_empty() {
        let (v, mb, r) = unquote_char(rest, q)?;
        rest = r;
        push_rune_bytes(&mut out, v, mb);
        if q == b'\'' && !rest.is_empty() {
            return Err(());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go() {
        assert_eq!(format_float(1.0, b'g', -1), "1");
        assert_eq!(format_float(1e6, b'g', -1), "1e+06");
        assert_eq!(format_float(100000.0, b'g', -1), "100000");
        assert_eq!(format_float(123456789.0, b'g', -1), "1.23456789e+08");
        assert_eq!(format_float(0.0001, b'g', -1), "0.0001");
        assert_eq!(format_float(0.00001, b'g', -1), "1e-05");
        assert_eq!(format_float(-0.0, b'g', -1), "-0");
        assert_eq!(format_float(3.14159, b'g', 3), "3.14");
        assert_eq!(format_float(123456.789, b'e', 6), "1.234568e+05");
        assert_eq!(format_float(0.000123, b'E', 6), "1.230000E-04");
        assert_eq!(format_float(2.0, b'f', 6), "2.000000");
        assert_eq!(format_float(3.0, b'b', -1), "6755399441055744p-51");
        assert_eq!(format_float(3.5, b'x', -1), "0x1.cp+01");
        assert_eq!(format_float(2.0, b'x', -1), "0x1p+01");
        assert_eq!(format_float(1e21, b'g', -1), "1e+21");
        assert_eq!(format_float(0.0, b'e', -1), "0e+00");
    }

    #[test]
    fn ints_like_go() {
        assert_eq!(parse_uint("017", true), Ok(15));
        assert_eq!(parse_uint("0x1F", true), Ok(31));
        assert_eq!(parse_uint("1_000", true), Ok(1000));
        assert_eq!(parse_uint("1__0", true), Err(NumErr::Syntax));
        assert_eq!(parse_uint("08", true), Err(NumErr::Syntax));
        assert_eq!(parse_int("-9223372036854775808", true), Ok(i64::MIN));
        assert_eq!(parse_int("9223372036854775808", true), Err(NumErr::Range));
        assert_eq!(parse_float("1e400"), Err(NumErr::Range));
        assert_eq!(parse_float("0x1p4"), Ok(16.0));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("h\u{e9}llo\n"), "\"h\u{e9}llo\\n\"");
        assert_eq!(quote_bytes("h\u{e9}".as_bytes(), true), "\"h\\u00e9\"");
        assert_eq!(quote_rune(1, false), "'\\x01'");
        assert_eq!(unquote("\"a\\tb\\x41\"").unwrap(), b"a\tbA");
        assert!(unquote("\"\\'\"").is_err());
    }
}
