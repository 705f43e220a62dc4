//! A small stand-in for the `bitflags` crate, enough for the one WIT `flags`
//! type of the contract ([`crate::Hooks`]): the bindings name it with
//! `bitflags_path`, so the SDK needs no extra dependency.

/// Defines a flags type the way `bitflags::bitflags!` does, with the methods
/// the generated bindings and plugin authors use.
macro_rules! bitflags {
    (
        $(#[$outer:meta])*
        pub struct $name:ident : $repr:ty {
            $(
                $(#[$inner:meta])*
                const $flag:ident = $value:expr;
            )*
        }
    ) => {
        $(#[$outer])*
        pub struct $name($repr);

        impl $name {
            $(
                $(#[$inner])*
                pub const $flag: Self = Self($value);
            )*

            /// No flag set.
            pub const fn empty() -> Self {
                Self(0)
            }

            /// Every flag set.
            pub const fn all() -> Self {
                Self(0 $(| $value)*)
            }

            /// The flags as bits.
            pub const fn bits(&self) -> $repr {
                self.0
            }

            /// The flags of `bits`, unknown bits included.
            pub const fn from_bits_retain(bits: $repr) -> Self {
                Self(bits)
            }

            /// Whether no flag is set.
            pub const fn is_empty(&self) -> bool {
                self.0 == 0
            }

            /// Whether every flag of `other` is set in `self`.
            pub const fn contains(&self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// The flags set in `self` or in `other` (usable in a `const`).
            pub const fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }
        }

        impl ::core::ops::BitOr for $name {
            type Output = Self;
            fn bitor(self, other: Self) -> Self {
                self.union(other)
            }
        }

        impl ::core::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, other: Self) {
                *self = self.union(other);
            }
        }

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self::empty()
            }
        }
    };
}

pub(crate) use bitflags;
