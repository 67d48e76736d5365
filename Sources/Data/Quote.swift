/// Text from a file or an option, made safe to show in a message: control, format (such as
/// bidirectional overrides) and unassigned characters become `\u{…}` escapes, so crafted input
/// cannot drive the terminal, and only the first `limit` characters are kept, so it cannot flood it.
public func escaped<S: StringProtocol>(_ text: S, limit: Int = 200, keepingNewlines: Bool = false) -> String {
    var out = "", kept = 0
    for u in text.unicodeScalars {
        guard kept < limit else { return out + "… (\(text.unicodeScalars.count - limit) more characters)" }
        kept += 1
        switch u.properties.generalCategory {
        case _ where u == "\n" && keepingNewlines: out.unicodeScalars.append(u)
        case .control, .format, .unassigned, .surrogate, .privateUse, .lineSeparator, .paragraphSeparator:
            out += "\\u{" + String(u.value, radix: 16) + "}"
        default: out.unicodeScalars.append(u)
        }
    }
    return out
}

/// User data as an error message quotes it: escaped and bounded (see `escaped`), in single quotes.
/// Every error that repeats text from a file or an option goes through this.
public func quote<S: StringProtocol>(_ text: S, limit: Int = 200) -> String {
    "'" + escaped(text, limit: limit) + "'"
}
