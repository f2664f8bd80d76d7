import { withParsedXml } from '../../xml/parse.js';
import { fa3Schema, schemaErrors } from '../../xml/schemas.js';
import { XmlSyntaxError } from '../../xml/tree.js';

/**
 * Full FA(3) XSD validation, as KSeF makes on every invoice: the official schema compiled once by libxml2,
 * then well under a millisecond per ordinary invoice, so it runs inline.
 */
export class Fa3SchemaValidator {
  /** The schema violations of one document (empty when valid). */
  async validate(doc: Buffer): Promise<string[]> {
    try {
      return withParsedXml(doc, (_tree, native) =>
        schemaErrors(fa3Schema(), native).map((e) => `Błąd walidacji XSD (linia ${e.line}): ${e.message.trim()}`),
      );
    } catch (err) {
      if (err instanceof XmlSyntaxError) return [`Nieprawidłowy XML: ${err.message}.`];
      throw err;
    }
  }
}
