import { BadRequestException } from '@nestjs/common';

export interface ArgumentViolation {
  /** Position of the argument in the invocation, from 0. */
  readonly argument: number;
  /** Dotted path of the property inside the argument; empty for the argument itself. */
  readonly property: string;
  /** Names of the broken constraints (`isLength`, `isEmail`...). */
  readonly constraints: readonly string[];
}

// Property names can come from the client (unknown keys of a payload): anything that does not
// look like an identifier path is not repeated back.
const SAFE_PROPERTY = /^[A-Za-z0-9_$.[\]-]{1,64}$/;

/**
 * Thrown by the module's validation pipe. It names fields and constraints, never values,
 * since a value may be exactly what the caller must not see echoed (or what an XSS probe sent).
 */
export class ArgumentValidationException extends BadRequestException {
  constructor(readonly violations: readonly ArgumentViolation[]) {
    super('Invalid arguments.');
  }

  /** The same violations, attributed to the argument at `position`. */
  atArgument(position: number): ArgumentValidationException {
    return new ArgumentValidationException(this.violations.map((violation) => ({ ...violation, argument: position })));
  }

  describe(): string {
    return this.violations
      .map(({ argument, property, constraints }) => {
        const field = property === '' ? `argument ${argument}` : SAFE_PROPERTY.test(property) ? property : 'a property';
        return `${field} (${constraints.join(', ')})`;
      })
      .join('; ');
  }
}
