// The CSV reader lives with the product (cli/csv); benches keep this path.
export * from '../../cli/csv/index.ts';
