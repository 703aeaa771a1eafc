//! The digits of π, for the Kubernetes documentation's Job example, which runs
//! `perl -Mbignum=bpi -wle 'print bpi(2000)'` and whose log is π to 2,000 digits.

/// The first `count` decimal digits of π (3, 1, 4, 1, 5, ...), by Rabinowitz and
/// Wagon's spigot: exact, in integer arithmetic, in time quadratic in `count`.
fn leading_digits(count: usize) -> Vec<u8> {
    let len = count * 10 / 3 + 1;
    // Index i holds the mixed-radix digit whose radix is (i / (2i + 1)), from i = 1.
    let mut remainders = vec![2u64; len + 1];
    let mut digits = Vec::with_capacity(count + 1);
    let mut predigit = 0u8;
    let mut nines = 0usize;
    for _ in 0..=count {
        let mut carry = 0u64;
        for i in (1..=len as u64).rev() {
            let x = 10 * remainders[i as usize] + carry * i;
            remainders[i as usize] = x % (2 * i - 1);
            carry = x / (2 * i - 1);
        }
        remainders[1] = carry % 10;
        let q = (carry / 10) as u8;
        match q {
            9 => nines += 1,
            10 => {
                digits.push(predigit + 1);
                digits.extend(std::iter::repeat_n(0, nines));
                predigit = 0;
                nines = 0;
            }
            _ => {
                digits.push(predigit);
                digits.extend(std::iter::repeat_n(9, nines));
                predigit = q;
                nines = 0;
            }
        }
    }
    digits.push(predigit);
    digits.extend(std::iter::repeat_n(9, nines));
    // The spigot's first output is a 0 before the 3.
    digits.remove(0);
    digits.truncate(count);
    digits
}

/// π to `significant` digits, rounded, as Perl's `bpi` prints it: `3.14` for 3.
pub fn pi(significant: usize) -> String {
    let significant = significant.max(1);
    let mut digits = leading_digits(significant + 8);
    let round_up = digits[significant] >= 5;
    digits.truncate(significant);
    if round_up {
        // π's digits never carry past its first: a run of nines long enough
        // to reach the 3 does not occur.
        for d in digits.iter_mut().rev() {
            if *d == 9 {
                *d = 0;
            } else {
                *d += 1;
                break;
            }
        }
    }
    let mut text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    if text.len() > 1 {
        text.insert(1, '.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_fifty_digits_and_the_feynman_point() {
        assert_eq!(
            pi(51),
            "3.14159265358979323846264338327950288419716939937511"
        );
        assert_eq!(pi(3), "3.14");
        assert_eq!(pi(1), "3");
        // Six nines from the 762nd decimal place.
        let long = pi(800);
        assert_eq!(&long[2 + 761..2 + 767], "999999");
        assert_eq!(pi(2000).len(), 2001);
    }
}
