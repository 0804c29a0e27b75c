package storage

import "context"

// RevokeUserTokens revokes every grant whose subject is userID in the tenant in ctx: authorization codes (and
// their PKCE and OpenID Connect records), access tokens and refresh tokens, whichever client and organization
// they were issued for. A refresh or code exchange in flight (its transaction has locked the record it consumes
// and inserted successors a DELETE begun before its commit cannot see) is caught as RevokeRefreshToken catches
// it: the delete is repeated until one round finds nothing (bounded). It returns how many records went; an empty
// userID revokes nothing.
func (s *Store) RevokeUserTokens(ctx context.Context, userID string) (int64, error) {
	if userID == "" {
		return 0, nil
	}
	db, _, err := s.scoped(ctx)
	if err != nil {
		return 0, err
	}
	kinds := []string{kindCode, kindPKCE, kindOIDC, kindAccess, kindRefresh}
	var total int64
	for range 16 {
		res := db.Where("kind IN ? AND subject = ?", kinds, userID).Delete(&oauthToken{})
		if res.Error != nil {
			return total, mapErr(res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected == 0 {
			break
		}
	}
	return total, nil
}
