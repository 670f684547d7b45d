// One bound for every recursive walk over a catalogue: the JSON parser's nesting, the validator
// builder, the grammar compiler, the regex parser, the validator's checks. A catalogue is input
// from whoever can write the file, and a walk that recursed as deep as the input asked (a 5,000-link
// `$ref` chain, a pattern of 100,000 nested groups) would overflow the thread's stack and take the
// daemon down with it. Each walk counts its depth and, past this bound, fails with an error that
// names where in the schema (a JSON pointer) the bound was reached.

/// The shared depth bound of recursive walks over schemas and JSON values.
public enum NestingLimit {
    /// The deepest any walk goes: nested subschemas followed (through `$ref` too), nested regex
    /// groups, nested arrays and objects. Real schemas stay far below it (tens of levels); at this
    /// depth every walk fits comfortably in a 512 KiB stack.
    public static let depth = 128
}
