import {
  BadRequestException,
  Injectable,
  NotFoundException,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type CallHandler,
  type CanActivate,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { IsEmail, IsInt, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { Hub, HubException, HubMethod, type OnHubConnected } from 'nestjs-signalr';
import type { Observable } from 'rxjs';

export const SECRET = 'hunter2-db-password';

@Injectable()
class LeakyGuard implements CanActivate {
  canActivate(): boolean {
    throw new Error(`guard crashed: ${SECRET}`);
  }
}

@Injectable()
class LeakyInterceptor implements NestInterceptor {
  intercept(_context: unknown, _next: CallHandler): Observable<unknown> {
    throw new Error(`interceptor crashed: ${SECRET}`);
  }
}

@Injectable()
class LeakyPipe implements PipeTransform {
  transform(): never {
    throw new Error(`pipe crashed: ${SECRET}`);
  }
}

class Address {
  @IsString()
  @Length(1, 40)
  city!: string;
}

export class Signup {
  @IsEmail()
  email!: string;

  @IsInt()
  @Min(13)
  @Max(130)
  age!: number;

  @ValidateNested()
  @Type(() => Address)
  address!: Address;
}

@Hub('/hubs/errors')
export class ErrorHub {
  throwsSync(): never {
    throw new Error(`sync: ${SECRET}`);
  }

  async throwsAsync(): Promise<never> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new TypeError(`async: ${SECRET}`);
  }

  throwsNonError(): never {
    throw { password: SECRET };
  }

  async *streamThrows(): AsyncGenerator<number> {
    yield 1;
    throw new Error(`stream: ${SECRET}`);
  }

  @UseGuards(LeakyGuard)
  guarded(): string {
    return 'unreachable';
  }

  @UseInterceptors(LeakyInterceptor)
  intercepted(): string {
    return 'unreachable';
  }

  @UsePipes(LeakyPipe)
  piped(value: string): string {
    return value;
  }

  deliberate(): never {
    throw new HubException('Room is full.');
  }

  wsDeliberate(): never {
    throw new WsException('Slow down.');
  }

  notFound(): never {
    throw new NotFoundException(`lookup failed: ${SECRET}`);
  }

  badRequest(): never {
    throw new BadRequestException(`bad: ${SECRET}`);
  }

  @HubMethod()
  signup(form: Signup): string {
    return `${form.email} ${form.address.city}`;
  }

  @HubMethod()
  typed(name: string, count: number, flag: boolean, list: string[]): string {
    return `${name}${count}${flag}${list.length}`;
  }
}

@Hub('/hubs/errors-on-connect')
export class FailingConnectHub implements OnHubConnected {
  onConnected(): void {
    throw new Error(`onConnected: ${SECRET}`);
  }

  ping(): string {
    return 'pong';
  }
}
