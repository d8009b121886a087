import {
  Inject,
  Optional,
  Injectable,
  Logger,
  ValidationPipe,
  type ArgumentMetadata,
  type PipeTransform,
  type Provider,
  type ValidationError,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { rootModuleMissing } from '../errors/setup-errors.js';
import { ArgumentValidationException, type ArgumentViolation } from '../errors/argument-validation.exception.js';
import type { SignalRModuleOptions } from '../options/signalr-module-options.js';
import { SIGNALR_MODULE_OPTIONS } from '../signalr.module-definition.js';

/** What Nest's ValidationPipe leaves alone (its `toValidate`), and returns as is for a body. */
const UNVALIDATED_TYPES = new Set<unknown>([String, Boolean, Number, Array, Object, Buffer, Date]);

/** Exported by the module: Nest builds the pipe in each hub's own module, which must see this. */
export const HUB_ARGUMENT_VALIDATOR = Symbol('HubArgumentValidator');

/** The ValidationPipe the package built for hub arguments, and whether it checks each against its declared type. */
export interface HubArgumentValidator {
  readonly pipe: ValidationPipe;
  /** False with the `expectedType` option: every argument is then checked against that one type. */
  readonly byDeclaredType: boolean;
}

/**
 * Validates hub arguments typed with class-validator DTOs, on every hub by default. Nest's
 * ValidationPipe does the work; this one only attributes failures to the argument's position.
 * Without class-validator installed, or with `validation: false`, arguments pass unchanged.
 */
@Injectable()
export class HubValidationPipe implements PipeTransform {
  // Optional only so that a hub without SignalRModule.forRoot() fails with what to add.
  constructor(@Optional() @Inject(HUB_ARGUMENT_VALIDATOR) private readonly validator: HubArgumentValidator | null) {
    if (validator === undefined) throw rootModuleMissing('A @Hub class');
  }

  /**
   * Whether an argument declared with this type leaves `transform` exactly as it came: no
   * validator, or a type Nest's ValidationPipe neither validates nor converts in a body.
   */
  passesThrough(declaredType: unknown): boolean {
    if (!this.validator) return true;
    if (!this.validator.byDeclaredType) return false;
    return declaredType === undefined || declaredType === null || UNVALIDATED_TYPES.has(declaredType);
  }

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (!this.validator || metadata.type !== 'body') return value;
    try {
      return await this.validator.pipe.transform(value, metadata);
    } catch (error) {
      if (error instanceof ArgumentValidationException) throw error.atArgument(metadata.data as unknown as number);
      throw error;
    }
  }
}

export const hubValidatorProvider: Provider = {
  provide: HUB_ARGUMENT_VALIDATOR,
  inject: [SIGNALR_MODULE_OPTIONS],
  useFactory: async (options: SignalRModuleOptions): Promise<HubArgumentValidator | null> => {
    if (options.validation === false) return null;
    if (!(await isInstalled('class-validator')) || !(await isInstalled('class-transformer'))) {
      new Logger('SignalR:Validation').warn('class-validator or class-transformer is not installed: hub arguments are not validated.');
      return null;
    }
    const pipeOptions: ValidationPipeOptions = {
      transform: true,
      whitelist: true,
      forbidUnknownValues: true,
      ...options.validation,
      exceptionFactory: (errors) => new ArgumentValidationException(violationsOf(errors)),
    };
    return { pipe: new ValidationPipe(pipeOptions), byDeclaredType: !pipeOptions.expectedType };
  },
};

export const hubValidationProviders: Provider[] = [hubValidatorProvider, HubValidationPipe];

async function isInstalled(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

function violationsOf(errors: readonly ValidationError[], parent = ''): ArgumentViolation[] {
  return errors.flatMap((error) => {
    const property = parent === '' ? error.property : `${parent}.${error.property}`;
    const own: ArgumentViolation[] = error.constraints ? [{ argument: 0, property, constraints: Object.keys(error.constraints) }] : [];
    return [...own, ...violationsOf(error.children ?? [], property)];
  });
}
