const euros = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' });

export const formatPrice = (cents) => euros.format(cents / 100);
