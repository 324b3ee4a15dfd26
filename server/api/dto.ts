import type { ApiToken } from "../../core/accounts/api-token.entity.ts";
import type { User } from "../../core/accounts/user.entity.ts";

export interface UserDto {
  id: string;
  username: string;
  email: string | null;
  role: User["role"];
  disabled: boolean;
  createdAt: string;
}

export function toUserDto(user: User): UserDto {
  return {
    id: user.id,
    username: user.username,
    email: user.email ?? null,
    role: user.role,
    disabled: user.disabledAt != null,
    createdAt: user.createdAt.toISOString(),
  };
}

export interface ApiTokenDto {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export function toApiTokenDto(token: ApiToken): ApiTokenDto {
  return {
    id: token.id,
    name: token.name,
    prefix: token.tokenPrefix,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    expiresAt: token.expiresAt?.toISOString() ?? null,
  };
}
