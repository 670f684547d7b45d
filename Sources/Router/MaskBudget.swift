// The memory budget for warmed token masks, checked before a catalogue is warmed.
//
// Warming computes one vocabulary-wide bitset per grammar position (see TokenMatcher's
// MaskBudget.swift), so a catalogue with a 60,000-value `enum` would take gigabytes and tens of
// seconds — at start, or at a reload on top of the pipeline still serving. The pipeline estimates
// the cost from the grammar's layout first and refuses a catalogue past its budget, naming the
// catalogue, the estimate and the budget, before a single mask is computed.

import TokenMatcher

/// Why a catalogue could not be prepared for serving.
public enum CatalogueLoadError: Error, Equatable, CustomStringConvertible {
    /// Warming the catalogue's masks would take more than the budget (`mask_cache_budget_mb`).
    case maskBudgetExceeded(catalogue: String, states: Int, estimatedBytes: Int, budgetBytes: Int)

    public var description: String {
        switch self {
        case .maskBudgetExceeded(let catalogue, let states, let estimated, let budget):
            return "catalogue '\(catalogue)': warming its token masks would take about \(Self.mebibytes(estimated)) MiB "
                + "(\(states) grammar states), over the mask cache budget of \(Self.mebibytes(budget)) MiB "
                + "(mask_cache_budget_mb); shorten its large enums or alternatives, or raise the budget"
        }
    }

    private static func mebibytes(_ bytes: Int) -> Int { (bytes + (1 << 20) - 1) >> 20 }
}

extension RequestPipeline {
    /// The mask budget of a pipeline that is given none: 256 MiB.
    public static let defaultMaskCacheBudgetBytes = 256 << 20

    /// Throws when warming `grammar`'s masks for this pipeline's vocabulary would exceed the budget.
    func checkMaskBudget(_ grammar: ByteGrammar, catalogue name: String) throws(CatalogueLoadError) {
        let estimate = grammar.maskWarmEstimate(for: decoder.vocabulary)
        guard estimate.bytes <= maskCacheBudgetBytes else {
            throw .maskBudgetExceeded(catalogue: name, states: estimate.entries, estimatedBytes: estimate.bytes,
                                      budgetBytes: maskCacheBudgetBytes)
        }
    }
}
