// Tidying grammar expressions as they are assembled, so printed grammars stay readable.

import Grammar

/// Flattens nested sequences, merges adjacent literals and drops empty parts.
func simplified(_ expr: GrammarExpr) -> GrammarExpr {
    guard case .sequence(let parts) = expr else { return expr }
    var out: [GrammarExpr] = []
    for part in parts {
        let tidy = simplified(part)
        let inner: [GrammarExpr]
        if case .sequence(let nested) = tidy { inner = nested } else { inner = [tidy] }
        for piece in inner {
            if case .repeat(_, 0, 0) = piece { continue }
            if case .literal(let text) = piece, case .literal(let previous)? = out.last {
                out[out.count - 1] = .literal(previous + text)
            } else {
                out.append(piece)
            }
        }
    }
    return out.count == 1 ? out[0] : .sequence(out)
}
