export interface ValidationIssue {
  /** XPath-like location, e.g. `/Faktura/Fa/P_15` or `/Faktura/Fa/FaWiersz[2]/P_12`; `/` for the document. */
  path: string;
  message: string;
  /**
   * Rule id from FA3.md §6 (`T1`, `N1`, …) or the layer that found it: `EMPTY`, `ENCODING`, `XML`
   * (not well-formed), `NAMESPACE`, `FORM_CODE`, `SCHEMA_MISSING`, `SCHEMA_UNEXPECTED`, `SCHEMA_VALUE`,
   * `SCHEMA_ATTRIBUTE`, `SCHEMA_CONTENT`, `SCHEMA_MORE` (our structure layer), `XSD` (the official schema via xmllint).
   */
  code?: string;
  /** Source line, when known. */
  line?: number;
}
