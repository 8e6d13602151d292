//! Go's `fmt` printing (`Sprint`, `Sprintln`, `Sprintf`) over [`Value`]s,
//! including Go's error forms (`%!d(string=x)`, `%!v(MISSING)`, ...).

use super::strconv::{can_backquote, decode_rune, format_float, quote_bytes, quote_rune};
use super::value::Value;

const LDIGITS: &[u8; 17] = b"0123456789abcdefx";
const UDIGITS: &[u8; 17] = b"0123456789ABCDEFX";

#[derive(Default, Clone, Copy)]
struct Flags {
    wid_present: bool,
    prec_present: bool,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: usize,
    prec: usize,
}

struct Pp<'b> {
    buf: &'b mut Vec<u8>,
    f: Flags,
    erroring: bool,
}

fn rune_count(b: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        let (_, w) = decode_rune(&b[i..]);
        i += w.max(1);
        n += 1;
    }
    n
}

impl<'b> Pp<'b> {
    fn new(buf: &'b mut Vec<u8>) -> Self {
        Pp {
            buf,
            f: Flags::default(),
            erroring: false,
        }
    }

    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero { b'0' } else { b' ' };
        self.buf.extend(std::iter::repeat_n(c, n));
    }

    fn pad(&mut self, b: &[u8]) {
        if !self.f.wid_present || self.f.wid == 0 {
            self.buf.extend_from_slice(b);
            return;
        }
        let width = self.f.wid.saturating_sub(rune_count(b));
        if !self.f.minus {
            self.write_padding(width);
            self.buf.extend_from_slice(b);
        } else {
            self.buf.extend_from_slice(b);
            self.write_padding(width);
        }
    }

    fn pad_str(&mut self, s: &str) {
        self.pad(s.as_bytes());
    }

    fn fmt_boolean(&mut self, v: bool) {
        self.pad_str(if v { "true" } else { "false" });
    }

    fn fmt_unicode(&mut self, mut u: u64) {
        let mut prec = 4usize;
        if self.f.prec_present && self.f.prec > 4 {
            prec = self.f.prec;
        }
        let mut digits = Vec::new();
        loop {
            digits.push(UDIGITS[(u & 0xf) as usize]);
            u >>= 4;
            if u == 0 {
                break;
            }
        }
        while digits.len() < prec {
            digits.push(b'0');
        }
        let mut out = b"U+".to_vec();
        out.extend(digits.iter().rev());
        let orig = self.fmt_unicode_orig(&out);
        let old_zero = self.f.zero;
        self.f.zero = false;
        self.pad(&orig);
        self.f.zero = old_zero;
    }

    fn fmt_unicode_orig(&self, out: &[u8]) -> Vec<u8> {
        // %#U appends the quoted character when printable.
        let mut v = out.to_vec();
        if self.f.sharp {
            let hex = std::str::from_utf8(&out[2..]).unwrap_or("");
            if let Ok(u) = u32::from_str_radix(hex, 16) {
                if let Some(c) = char::from_u32(u) {
                    if super::strconv::is_print(c) {
                        v.extend_from_slice(b" '");
                        let mut t = [0u8; 4];
                        v.extend_from_slice(c.encode_utf8(&mut t).as_bytes());
                        v.push(b'\'');
                    }
                }
            }
        }
        v
    }

    fn fmt_integer(
        &mut self,
        mut u: u64,
        base: u64,
        is_signed: bool,
        verb: char,
        digits: &[u8; 17],
    ) {
        let negative = is_signed && (u as i64) < 0;
        if negative {
            u = u.wrapping_neg();
        }
        let mut prec = 0usize;
        if self.f.prec_present {
            prec = self.f.prec;
            if prec == 0 && u == 0 {
                let old_zero = self.f.zero;
                self.f.zero = false;
                let w = self.f.wid;
                self.write_padding(w);
                self.f.zero = old_zero;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid_present {
            prec = self.f.wid;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let mut rev: Vec<u8> = Vec::with_capacity(24);
        loop {
            rev.push(digits[(u % base) as usize]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while rev.len() < prec {
            rev.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => rev.extend_from_slice(b"b0"),
                8 => {
                    if *rev.last().unwrap() != b'0' {
                        rev.push(b'0');
                    }
                }
                16 => {
                    rev.push(digits[16]);
                    rev.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            rev.extend_from_slice(b"o0");
        }
        if negative {
            rev.push(b'-');
        } else if self.f.plus {
            rev.push(b'+');
        } else if self.f.space {
            rev.push(b' ');
        }
        rev.reverse();
        let old_zero = self.f.zero;
        self.f.zero = false;
        self.pad(&rev);
        self.f.zero = old_zero;
    }

    fn truncate<'s>(&self, s: &'s [u8]) -> &'s [u8] {
        if self.f.prec_present {
            let mut n = self.f.prec;
            let mut i = 0;
            while i < s.len() {
                if n == 0 {
                    return &s[..i];
                }
                n -= 1;
                let (_, w) = decode_rune(&s[i..]);
                i += w.max(1);
            }
        }
        s
    }

    fn fmt_s(&mut self, s: &[u8]) {
        let s = self.truncate(s);
        let s = s.to_vec();
        self.pad(&s);
    }

    fn fmt_sx(&mut self, s: &[u8], digits: &[u8; 17]) {
        let mut length = s.len();
        if self.f.prec_present && self.f.prec < length {
            length = self.f.prec;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if self.f.wid_present {
                let w = self.f.wid;
                self.write_padding(w);
            }
            return;
        }
        if self.f.wid_present && self.f.wid > width && !self.f.minus {
            let w = self.f.wid - width;
            self.write_padding(w);
        }
        if self.f.sharp {
            self.buf.push(b'0');
            self.buf.push(digits[16]);
        }
        for (i, &c) in s[..length].iter().enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(b' ');
                if self.f.sharp {
                    self.buf.push(b'0');
                    self.buf.push(digits[16]);
                }
            }
            self.buf.push(digits[(c >> 4) as usize]);
            self.buf.push(digits[(c & 0xf) as usize]);
        }
        if self.f.wid_present && self.f.wid > width && self.f.minus {
            let w = self.f.wid - width;
            self.write_padding(w);
        }
    }

    fn fmt_q(&mut self, s: &[u8]) {
        let s = self.truncate(s).to_vec();
        if self.f.sharp && can_backquote(&s) {
            let mut q = Vec::with_capacity(s.len() + 2);
            q.push(b'`');
            q.extend_from_slice(&s);
            q.push(b'`');
            self.pad(&q);
            return;
        }
        let q = quote_bytes(&s, self.f.plus);
        self.pad_str(&q);
    }

    fn fmt_c(&mut self, c: u64) {
        let ch = if c > 0x10ffff {
            '\u{fffd}'
        } else {
            char::from_u32(c as u32).unwrap_or('\u{fffd}')
        };
        let mut b = [0u8; 4];
        let s = ch.encode_utf8(&mut b).as_bytes().to_vec();
        self.pad(&s);
    }

    fn fmt_qc(&mut self, c: u64) {
        let r = if c > 0x10ffff { 0xfffd } else { c as i64 };
        let q = quote_rune(r, self.f.plus);
        self.pad_str(&q);
    }

    fn fmt_float_raw(&mut self, v: f64, verb: u8, prec: i32) {
        let prec = if self.f.prec_present {
            self.f.prec as i32
        } else {
            prec
        };
        let s = format_float(v, verb, prec);
        let mut num: Vec<u8> = Vec::with_capacity(s.len() + 1);
        if s.starts_with('-') || s.starts_with('+') {
            num.extend_from_slice(s.as_bytes());
        } else {
            num.push(b'+');
            num.extend_from_slice(s.as_bytes());
        }
        if self.f.space && num[0] == b'+' && !self.f.plus {
            num[0] = b' ';
        }
        if num[1] == b'I' || num[1] == b'N' {
            let old_zero = self.f.zero;
            self.f.zero = false;
            if num[1] == b'N' && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad(&num);
            self.f.zero = old_zero;
            return;
        }
        if self.f.sharp && verb != b'b' {
            let mut digits: i32 = 0;
            if matches!(verb, b'v' | b'g' | b'G' | b'x') {
                digits = prec;
                if digits == -1 {
                    digits = 6;
                }
            }
            let mut tail: Vec<u8> = Vec::new();
            let mut has_dot = false;
            let mut saw_nonzero = false;
            let mut i = 1;
            while i < num.len() {
                match num[i] {
                    b'.' => has_dot = true,
                    b'p' | b'P' => {
                        tail.extend_from_slice(&num[i..]);
                        num.truncate(i);
                        break;
                    }
                    b'e' | b'E' if verb != b'x' && verb != b'X' => {
                        tail.extend_from_slice(&num[i..]);
                        num.truncate(i);
                        break;
                    }
                    c => {
                        if c != b'0' {
                            saw_nonzero = true;
                        }
                        if saw_nonzero {
                            digits -= 1;
                        }
                    }
                }
                i += 1;
            }
            if !has_dot {
                if num.len() == 2 && num[1] == b'0' {
                    digits -= 1;
                }
                num.push(b'.');
            }
            while digits > 0 {
                num.push(b'0');
                digits -= 1;
            }
            num.extend_from_slice(&tail);
        }
        if self.f.plus || num[0] != b'+' {
            if self.f.zero && !self.f.minus && self.f.wid_present && self.f.wid > num.len() {
                self.buf.push(num[0]);
                let w = self.f.wid - num.len();
                self.write_padding(w);
                self.buf.extend_from_slice(&num[1..]);
                return;
            }
            self.pad(&num);
            return;
        }
        let rest = num[1..].to_vec();
        self.pad(&rest);
    }

    // ---- pp level ----

    fn bad_verb(&mut self, verb: char, arg: Option<&Value>) {
        self.erroring = true;
        self.buf.extend_from_slice(b"%!");
        push_char(self.buf, verb);
        self.buf.push(b'(');
        match arg {
            Some(v) if !matches!(v, Value::Nil) => {
                self.buf.extend_from_slice(v.go_type().as_bytes());
                self.buf.push(b'=');
                self.print_arg(v, 'v');
            }
            _ => self.buf.extend_from_slice(b"<nil>"),
        }
        self.buf.push(b')');
        self.erroring = false;
    }

    fn fmt_bool(&mut self, v: bool, verb: char, arg: &Value) {
        match verb {
            't' | 'v' => self.fmt_boolean(v),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    fn fmt0x64(&mut self, v: u64, leading: bool) {
        let sharp = self.f.sharp;
        self.f.sharp = leading;
        self.fmt_integer(v, 16, false, 'v', LDIGITS);
        self.f.sharp = sharp;
    }

    fn fmt_int(&mut self, v: u64, signed: bool, verb: char, arg: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v && !signed {
                    self.fmt0x64(v, true)
                } else {
                    self.fmt_integer(v, 10, signed, verb, LDIGITS)
                }
            }
            'd' => self.fmt_integer(v, 10, signed, verb, LDIGITS),
            'b' => self.fmt_integer(v, 2, signed, verb, LDIGITS),
            'o' | 'O' => self.fmt_integer(v, 8, signed, verb, LDIGITS),
            'x' => self.fmt_integer(v, 16, signed, verb, LDIGITS),
            'X' => self.fmt_integer(v, 16, signed, verb, UDIGITS),
            'c' => self.fmt_c(v),
            'q' => self.fmt_qc(v),
            'U' => self.fmt_unicode(v),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    fn fmt_float(&mut self, v: f64, verb: char, arg: &Value) {
        match verb {
            'v' => self.fmt_float_raw(v, b'g', -1),
            'b' | 'g' | 'G' | 'x' | 'X' => self.fmt_float_raw(v, verb as u8, -1),
            'f' | 'e' | 'E' => self.fmt_float_raw(v, verb as u8, 6),
            'F' => self.fmt_float_raw(v, b'f', 6),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    fn fmt_complex(&mut self, re: f64, im: f64, verb: char, arg: &Value) {
        match verb {
            'v' | 'b' | 'g' | 'G' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E' => {
                let old_plus = self.f.plus;
                self.buf.push(b'(');
                self.fmt_float(re, verb, arg);
                self.f.plus = true;
                self.fmt_float(im, verb, arg);
                self.buf.extend_from_slice(b"i)");
                self.f.plus = old_plus;
            }
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    fn fmt_string(&mut self, s: &[u8], verb: char, arg: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    self.fmt_q(s)
                } else {
                    self.fmt_s(s)
                }
            }
            's' => self.fmt_s(s),
            'x' => self.fmt_sx(s, LDIGITS),
            'X' => self.fmt_sx(s, UDIGITS),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    /// Stringer handling (time.Time is the only Stringer among values).
    fn handle_methods(&mut self, v: &Value, verb: char) -> bool {
        if self.erroring {
            return false;
        }
        if let Value::Time(t) = v {
            if self.f.sharp_v {
                return false;
            }
            if matches!(verb, 'v' | 's' | 'x' | 'X' | 'q') {
                let s = t.go_string();
                self.fmt_string(s.as_bytes(), verb, v);
                return true;
            }
        }
        false
    }

    fn print_arg(&mut self, arg: &Value, verb: char) {
        if let Value::Nil = arg {
            match verb {
                'T' | 'v' => self.pad_str("<nil>"),
                _ => self.bad_verb(verb, None),
            }
            return;
        }
        match verb {
            'T' => {
                let t = arg.go_type().as_bytes().to_vec();
                self.fmt_s(&t);
                return;
            }
            'p' => {
                self.fmt_pointer(arg, 'p');
                return;
            }
            _ => {}
        }
        match arg {
            Value::Bool(b) => self.fmt_bool(*b, verb, arg),
            Value::Float(f) => self.fmt_float(*f, verb, arg),
            Value::Complex(r, i) => self.fmt_complex(*r, *i, verb, arg),
            Value::Int(i) | Value::Int64(i) => self.fmt_int(*i as u64, true, verb, arg),
            Value::Uint(u) => self.fmt_int(*u, false, verb, arg),
            Value::Uint8(u) => self.fmt_int(*u as u64, false, verb, arg),
            Value::Str(s) => self.fmt_string(s.as_bytes(), verb, arg),
            Value::Bytes(b) => self.fmt_string(b, verb, arg),
            _ => {
                if !self.handle_methods(arg, verb) {
                    self.print_value(arg, verb, 0);
                }
            }
        }
    }

    fn fmt_pointer(&mut self, v: &Value, verb: char) {
        match v {
            Value::List(_)
            | Value::StrList(_)
            | Value::IntList(_)
            | Value::ListList(_)
            | Value::Map(_)
            | Value::StrMap(_)
            | Value::AnyMap(_) => {
                // Addresses are not reproducible; print a stable stand-in.
                let addr: u64 = 0xc000010000;
                match verb {
                    'p' => self.fmt0x64(addr, !self.f.sharp),
                    _ => self.fmt_int(addr, false, verb, v),
                }
            }
            _ => self.bad_verb(verb, Some(v)),
        }
    }

    fn print_value(&mut self, v: &Value, verb: char, depth: usize) {
        if depth > 0 && self.handle_methods(v, verb) {
            return;
        }
        match v {
            Value::Nil => {
                // A nil interface inside a container.
                if self.f.sharp_v {
                    self.buf.extend_from_slice(b"interface {}(nil)");
                } else {
                    self.buf.extend_from_slice(b"<nil>");
                }
            }
            Value::Bool(_)
            | Value::Float(_)
            | Value::Complex(..)
            | Value::Int(_)
            | Value::Int64(_)
            | Value::Uint(_)
            | Value::Uint8(_)
            | Value::Str(_)
            | Value::Bytes(_) => {
                let saved = self.erroring;
                self.print_arg_basic(v, verb);
                self.erroring = saved;
            }
            Value::List(l) => self.print_seq(v, l.iter().map(ElemRef::V), l.len(), verb, depth),
            Value::StrList(l) => {
                self.print_seq(v, l.iter().map(|s| ElemRef::S(s)), l.len(), verb, depth)
            }
            Value::IntList(l) => {
                self.print_seq(v, l.iter().map(|i| ElemRef::I(*i)), l.len(), verb, depth)
            }
            Value::ListList(l) => {
                let items: Vec<Value> = l.iter().map(|x| Value::List(x.clone())).collect();
                self.print_seq(v, items.iter().map(ElemRef::V), items.len(), verb, depth)
            }
            Value::Map(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                self.map_open(v);
                for (i, k) in keys.into_iter().enumerate() {
                    self.map_sep(i);
                    self.print_arg_basic(&Value::Str(k.clone()), verb);
                    self.buf.push(b':');
                    self.print_value(&m[k.as_str()], verb, depth + 1);
                }
                self.map_close();
            }
            Value::StrMap(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                self.map_open(v);
                for (i, k) in keys.into_iter().enumerate() {
                    self.map_sep(i);
                    self.print_arg_basic(&Value::Str(k.clone()), verb);
                    self.buf.push(b':');
                    self.print_arg_basic(&Value::Str(m[k.as_str()].clone()), verb);
                }
                self.map_close();
            }
            Value::AnyMap(m) => {
                let mut entries: Vec<&(Value, Value)> = m.iter().collect();
                entries.sort_by(|a, b| compare_keys(&a.0, &b.0));
                self.map_open(v);
                for (i, (k, val)) in entries.into_iter().enumerate() {
                    self.map_sep(i);
                    self.print_value(k, verb, depth + 1);
                    self.buf.push(b':');
                    self.print_value(val, verb, depth + 1);
                }
                self.map_close();
            }
            Value::Time(t) => {
                // No Stringer at depth 0 reaches here only for bad verbs.
                let s = t.go_string();
                self.buf.push(b'{');
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.push(b'}');
            }
        }
    }

    fn print_arg_basic(&mut self, v: &Value, verb: char) {
        match v {
            Value::Bool(b) => self.fmt_bool(*b, verb, v),
            Value::Float(f) => self.fmt_float(*f, verb, v),
            Value::Complex(r, i) => self.fmt_complex(*r, *i, verb, v),
            Value::Int(i) | Value::Int64(i) => self.fmt_int(*i as u64, true, verb, v),
            Value::Uint(u) => self.fmt_int(*u, false, verb, v),
            Value::Uint8(u) => self.fmt_int(*u as u64, false, verb, v),
            Value::Str(s) => self.fmt_string(s.as_bytes(), verb, v),
            Value::Bytes(b) => self.fmt_string(b, verb, v),
            _ => self.print_value(v, verb, 1),
        }
    }

    fn map_open(&mut self, v: &Value) {
        if self.f.sharp_v {
            self.buf.extend_from_slice(v.go_type().as_bytes());
            self.buf.push(b'{');
        } else {
            self.buf.extend_from_slice(b"map[");
        }
    }

    fn map_sep(&mut self, i: usize) {
        if i > 0 {
            if self.f.sharp_v {
                self.buf.extend_from_slice(b", ");
            } else {
                self.buf.push(b' ');
            }
        }
    }

    fn map_close(&mut self) {
        self.buf.push(if self.f.sharp_v { b'}' } else { b']' });
    }

    fn print_seq<'v>(
        &mut self,
        v: &Value,
        items: impl Iterator<Item = ElemRef<'v>>,
        _len: usize,
        verb: char,
        depth: usize,
    ) {
        if self.f.sharp_v {
            self.buf.extend_from_slice(v.go_type().as_bytes());
            self.buf.push(b'{');
        } else {
            self.buf.push(b'[');
        }
        for (i, e) in items.enumerate() {
            if i > 0 {
                if self.f.sharp_v {
                    self.buf.extend_from_slice(b", ");
                } else {
                    self.buf.push(b' ');
                }
            }
            match e {
                ElemRef::V(x) => self.print_value(x, verb, depth + 1),
                ElemRef::S(s) => self.print_arg_basic(&Value::Str(s.clone()), verb),
                ElemRef::I(n) => self.print_arg_basic(&Value::Int(n), verb),
            }
        }
        self.buf.push(if self.f.sharp_v { b'}' } else { b']' });
    }

    fn do_printf(&mut self, format: &[u8], a: &[&Value]) {
        let end = format.len();
        let mut arg_num = 0usize;
        let mut after_index;
        let mut reordered = false;
        let mut i = 0usize;
        'format_loop: while i < end {
            let mut good_arg_num = true;
            let lasti = i;
            while i < end && format[i] != b'%' {
                i += 1;
            }
            if i > lasti {
                self.buf.extend_from_slice(&format[lasti..i]);
            }
            if i >= end {
                break;
            }
            i += 1;
            self.f = Flags::default();
            // Flags and the simple-verb fast path.
            while i < end {
                let c = format[i];
                match c {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = !self.f.minus,
                    b'+' => self.f.plus = true,
                    b'-' => {
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    b' ' => self.f.space = true,
                    _ => {
                        if c.is_ascii_lowercase() && arg_num < a.len() {
                            if c == b'v' {
                                self.f.sharp_v = self.f.sharp;
                                self.f.sharp = false;
                                self.f.plus_v = self.f.plus;
                                self.f.plus = false;
                            }
                            self.print_arg(a[arg_num], c as char);
                            arg_num += 1;
                            i += 1;
                            continue 'format_loop;
                        }
                        break;
                    }
                }
                i += 1;
            }
            // Argument index.
            let (na, ni, found) = self.arg_number(
                arg_num,
                format,
                i,
                a.len(),
                &mut reordered,
                &mut good_arg_num,
            );
            arg_num = na;
            i = ni;
            after_index = found;
            // Width.
            if i < end && format[i] == b'*' {
                i += 1;
                let (n, ok, na) = int_from_arg(a, arg_num);
                arg_num = na;
                self.f.wid_present = ok;
                if !ok {
                    self.buf.extend_from_slice(b"%!(BADWIDTH)");
                }
                if n < 0 {
                    self.f.wid = n.unsigned_abs() as usize;
                    self.f.minus = true;
                    self.f.zero = false;
                } else {
                    self.f.wid = n as usize;
                }
                after_index = false;
            } else {
                let (n, ok, ni) = parsenum(format, i, end);
                self.f.wid = n;
                self.f.wid_present = ok;
                i = ni;
                if after_index && ok {
                    good_arg_num = false;
                }
            }
            // Precision.
            if i + 1 < end && format[i] == b'.' {
                i += 1;
                if after_index {
                    good_arg_num = false;
                }
                let (na, ni, found) = self.arg_number(
                    arg_num,
                    format,
                    i,
                    a.len(),
                    &mut reordered,
                    &mut good_arg_num,
                );
                arg_num = na;
                i = ni;
                after_index = found;
                if i < end && format[i] == b'*' {
                    i += 1;
                    let (n, ok, na) = int_from_arg(a, arg_num);
                    arg_num = na;
                    self.f.prec_present = ok;
                    if n < 0 {
                        self.f.prec = 0;
                        self.f.prec_present = false;
                    } else {
                        self.f.prec = n as usize;
                    }
                    if !self.f.prec_present {
                        self.buf.extend_from_slice(b"%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (n, ok, ni) = parsenum(format, i, end);
                    self.f.prec = n;
                    self.f.prec_present = ok;
                    i = ni;
                    if !ok {
                        self.f.prec = 0;
                        self.f.prec_present = true;
                    }
                }
            }
            if !after_index {
                let (na, ni, found) = self.arg_number(
                    arg_num,
                    format,
                    i,
                    a.len(),
                    &mut reordered,
                    &mut good_arg_num,
                );
                arg_num = na;
                i = ni;
                let _ = found;
            }
            if i >= end {
                self.buf.extend_from_slice(b"%!(NOVERB)");
                break;
            }
            let (verb, size) = match decode_rune(&format[i..]) {
                (Some(c), w) => (c, w),
                (None, w) => ('\u{fffd}', w),
            };
            i += size;
            if verb == '%' {
                self.buf.push(b'%');
            } else if !good_arg_num {
                self.buf.extend_from_slice(b"%!");
                push_char(self.buf, verb);
                self.buf.extend_from_slice(b"(BADINDEX)");
            } else if arg_num >= a.len() {
                self.buf.extend_from_slice(b"%!");
                push_char(self.buf, verb);
                self.buf.extend_from_slice(b"(MISSING)");
            } else {
                if verb == 'v' || verb == 'w' {
                    self.f.sharp_v = self.f.sharp;
                    self.f.sharp = false;
                    self.f.plus_v = self.f.plus;
                    self.f.plus = false;
                }
                if verb == 'w' {
                    // %w is only valid in Errorf.
                    self.bad_verb('w', Some(a[arg_num]));
                } else {
                    self.print_arg(a[arg_num], verb);
                }
                arg_num += 1;
            }
        }
        if !reordered && arg_num < a.len() {
            self.f = Flags::default();
            self.buf.extend_from_slice(b"%!(EXTRA ");
            for (k, arg) in a[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.extend_from_slice(b", ");
                }
                if let Value::Nil = arg {
                    self.buf.extend_from_slice(b"<nil>");
                } else {
                    self.buf.extend_from_slice(arg.go_type().as_bytes());
                    self.buf.push(b'=');
                    self.print_arg(arg, 'v');
                }
            }
            self.buf.push(b')');
        }
    }

    fn arg_number(
        &mut self,
        arg_num: usize,
        format: &[u8],
        i: usize,
        num_args: usize,
        reordered: &mut bool,
        good: &mut bool,
    ) -> (usize, usize, bool) {
        if format.len() <= i || format[i] != b'[' {
            return (arg_num, i, false);
        }
        *reordered = true;
        let (index, wid, ok) = parse_arg_number(&format[i..]);
        if ok && index >= 0 && (index as usize) < num_args {
            return (index as usize, i + wid, true);
        }
        *good = false;
        (arg_num, i + wid, ok)
    }
}

enum ElemRef<'v> {
    V(&'v Value),
    S(&'v String),
    I(i64),
}

fn push_char(buf: &mut Vec<u8>, c: char) {
    let mut b = [0u8; 4];
    buf.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
}

fn too_large(x: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&x)
}

fn parsenum(s: &[u8], start: usize, end: usize) -> (usize, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num: i64 = 0;
    let mut isnum = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + (s[i] - b'0') as i64;
        isnum = true;
        i += 1;
    }
    (num as usize, isnum, i)
}

fn parse_arg_number(format: &[u8]) -> (i64, usize, bool) {
    if format.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..format.len() {
        if format[i] == b']' {
            let (width, ok, newi) = parsenum(format, 1, i);
            if !ok || newi != i {
                return (0, i + 1, false);
            }
            return (width as i64 - 1, i + 1, true);
        }
    }
    (0, 1, false)
}

fn int_from_arg(a: &[&Value], arg_num: usize) -> (i64, bool, usize) {
    if arg_num >= a.len() {
        return (0, false, arg_num);
    }
    let (mut num, mut is_int) = match a[arg_num] {
        Value::Int(i) | Value::Int64(i) => (*i, true),
        Value::Uint8(u) => (*u as i64, true),
        Value::Uint(u) => {
            if *u <= i64::MAX as u64 {
                (*u as i64, true)
            } else {
                (0, false)
            }
        }
        _ => (0, false),
    };
    if too_large(num) {
        num = 0;
        is_int = false;
    }
    (num, is_int, arg_num + 1)
}

/// Orders map keys the way Go's `internal/fmtsort` does for the key types
/// we have: nil first, then by type, then by value.
pub fn compare_keys(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(v: &Value) -> u8 {
        // Type order mirrors what the recorded go-task binary showed
        // (string keys before int keys); the rest is arbitrary but stable.
        match v {
            Value::Nil => 0,
            Value::Str(_) | Value::Bytes(_) => 1,
            Value::Int(_) => 2,
            Value::Bool(_) => 3,
            Value::Float(_) => 4,
            Value::Uint(_) => 5,
            _ => 6,
        }
    }
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Uint(x), Value::Uint(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => match (a.go_bytes(), b.go_bytes()) {
            (Some(x), Some(y)) => x.cmp(y),
            _ => Ordering::Equal,
        },
    }
}

/// `fmt.Sprint(args...)`.
pub fn sprint(buf: &mut Vec<u8>, args: &[&Value]) {
    let mut p = Pp::new(buf);
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::Str(_) | Value::Bytes(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(b' ');
        }
        p.f = Flags::default();
        p.print_arg(arg, 'v');
        prev_string = is_string;
    }
}

/// `fmt.Sprintln(args...)`.
pub fn sprintln(buf: &mut Vec<u8>, args: &[&Value]) {
    let mut p = Pp::new(buf);
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(b' ');
        }
        p.f = Flags::default();
        p.print_arg(arg, 'v');
    }
    p.buf.push(b'\n');
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(buf: &mut Vec<u8>, format: &[u8], args: &[&Value]) {
    let mut p = Pp::new(buf);
    p.do_printf(format, args);
}

/// `fmt.Sprint(v)` as a Rust string (lossy for non-UTF-8 bytes).
pub fn sprint_value(v: &Value) -> String {
    let mut b = Vec::new();
    sprint(&mut b, &[v]);
    match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// `fmt.Sprintf` returning a Go string value.
pub fn sprintf_value(format: &[u8], args: &[&Value]) -> Value {
    let mut b = Vec::new();
    sprintf(&mut b, format, args);
    Value::from_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf(f: &str, a: &[Value]) -> String {
        let refs: Vec<&Value> = a.iter().collect();
        let mut b = Vec::new();
        sprintf(&mut b, f.as_bytes(), &refs);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn printf_basics() {
        assert_eq!(
            pf("%d", &[Value::Int(1), Value::Int(2)]),
            "1%!(EXTRA int=2)"
        );
        assert_eq!(pf("%d", &[]), "%!d(MISSING)");
        assert_eq!(pf("%", &[]), "%!(NOVERB)");
        assert_eq!(pf("%5d", &[Value::str("a")]), "%!d(string=    a)");
        assert_eq!(pf("%.2f", &[Value::Int(1)]), "%!f(int=01)");
        assert_eq!(pf("%05s", &[Value::str("ab")]), "000ab");
        assert_eq!(pf("%-*d|", &[Value::Int(5), Value::Int(3)]), "3    |");
        assert_eq!(pf("%U", &[Value::Int(-42)]), "U+FFFFFFFFFFFFFFD6");
        assert_eq!(pf("%x", &[Value::Float(3.5)]), "0x1.cp+01");
        assert_eq!(pf("%o|%O", &[Value::Int(8), Value::Int(8)]), "10|0o10");
        assert_eq!(pf("%6.2f|", &[Value::Float(2.0)]), "  2.00|");
        assert_eq!(pf("%#q", &[Value::str("back`tick")]), "\"back`tick\"");
        assert_eq!(pf("%+q", &[Value::str("h\u{e9}llo")]), "\"h\\u00e9llo\"");
    }

    #[test]
    fn containers() {
        let m = Value::Map(
            [
                ("k".to_string(), Value::str("v")),
                ("a".to_string(), Value::Int(1)),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(pf("%v", &[m.clone()]), "map[a:1 k:v]");
        assert_eq!(pf("%q", &[m.clone()]), "map[\"a\":'\\x01' \"k\":\"v\"]");
        assert_eq!(
            pf("%-5s", &[m.clone()]),
            "map[a    :%!s(int=1    ) k    :v    ]"
        );
        assert_eq!(
            pf("%#v", &[m]),
            "map[string]interface {}{\"a\":1, \"k\":\"v\"}"
        );
        let l = Value::List(vec![Value::Int(1), Value::str("a"), Value::Nil]);
        assert_eq!(pf("%s", &[l.clone()]), "[%!s(int=1) a <nil>]");
        assert_eq!(
            pf("%#v", &[l]),
            "[]interface {}{1, \"a\", interface {}(nil)}"
        );
    }
}
