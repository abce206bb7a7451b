package store_test

import (
	"testing"

	"github.com/attrconform/attrconform/reference/store"
	"github.com/attrconform/attrconform/reference/store/storetest"
)

func TestMemoryKeepsTheStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return store.NewMemory() })
}
