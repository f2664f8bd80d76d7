import { withParsedXml } from '../../xml/parse.js';
import { fa3Schema, schemaErrors } from '../../xml/schemas.js';
import { XmlSyntaxError } from '../../xml/tree.js';

/**
 * Full FA(3) XSD validation, as KSeF makes on every invoice: the official schema compiled once by libxml2,
 * then about a millisecond per ordinary invoice, run inline.
 */
export class Fa3SchemaValidator {
  /** The schema violations of one document (empty when valid). */
  async validate(doc: Buffer): Promise<string[]> {
    // One document per turn of the event loop: a batch of thousands must not hold up the sandbox's HTTP.
    await new Promise((resolve) => setImmediate(resolve));
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
