// The adapter ↔ catalogue rule, applied wherever an adapter is paired with a catalogue (`serve` at start
// and at each reload, `eval`): a tool-calling fine-tune is served with exactly the tools it was trained
// on. An adapter whose record names another catalogue is refused, unless told otherwise; one with no
// record (adapters trained before records existed, GGUF adapter files) is loaded with a warning.

import ToolCalls

/// Checks an adapter's catalogue record against the catalogue it is about to be paired with.
enum CatalogueBinding {
    /// How the pairing went, when it did not refuse.
    enum Outcome: Equatable {
        /// The adapter was trained on this catalogue.
        case matches
        /// The adapter records another catalogue, and the override let it through; the differences.
        case mismatchAllowed(CatalogueMismatch)
        /// The adapter records no catalogue; why.
        case unrecorded(String)
    }

    /// Compares the record of the adapter at `adapterPath` with `catalogue` (the file `cataloguePath`;
    /// messages start with `context`, e.g. "catalogue support: "). A different catalogue throws — naming
    /// the tools that differ and `overrideHint`, how to load it anyway — unless `allowMismatch`. A record
    /// that is there but malformed throws too, naming the file and the JSON pointer.
    static func check(adapterPath: String, catalogue: ToolCatalogue, cataloguePath: String, context: String = "",
                      allowMismatch: Bool, overrideHint: String) throws -> Outcome {
        let lookup: AdapterCatalogueLookup
        do { lookup = try AdapterCatalogueRecord.read(adapterPath: adapterPath) } catch {
            throw CLIError("\(context)adapter \(adapterPath): catalogue record: \(error)")
        }
        switch lookup {
        case .unrecorded(let reason):
            return .unrecorded(reason)
        case .recorded(let trained):
            guard let mismatch = CatalogueFingerprint(catalogue: catalogue).mismatch(trained: trained) else { return .matches }
            if allowMismatch { return .mismatchAllowed(mismatch) }
            throw CLIError("\(context)adapter \(adapterPath) was trained on a different catalogue than \(cataloguePath): "
                           + "\(mismatch). Pair it with the catalogue it was trained on, train an adapter for this one "
                           + "(toolrouter train), or \(overrideHint)")
        }
    }

    /// The warning to log for an outcome that did not match, or nil when it matched; `override` names
    /// the setting that let a mismatch through.
    static func warning(_ outcome: Outcome, override: String) -> (message: String, detail: String)? {
        switch outcome {
        case .matches: return nil
        case .mismatchAllowed(let mismatch):
            return ("adapter trained on a different catalogue, loaded anyway (\(override))", "\(mismatch)")
        case .unrecorded(let reason):
            return ("adapter records no catalogue; its pairing with this catalogue cannot be checked", reason)
        }
    }
}
