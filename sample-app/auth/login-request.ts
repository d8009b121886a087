import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

/** A new token for the user of a valid one: for authentication refresh, before the old one expires. */
export class RenewRequest {
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  ttlSeconds?: number;
}

export class LoginRequest {
  @IsString()
  @Length(1, 64)
  username!: string;

  @IsString()
  @Length(1, 128)
  password!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  ttlSeconds?: number;
}
